"""The search box on both databases: case, word order, phones in any format, e-mails, ids."""

from __future__ import annotations

import pytest

from kartoteka.clients import services
from kartoteka.clients.models import Client
from kartoteka.clients.search import search
from kartoteka.clients.services import EmailIn, PhoneIn


@pytest.fixture
def clients(alice):
    ryabov = services.create_client(
        alice,
        "person",
        {"last_name": "Рябов", "first_name": "Семён", "external_id": "CRM-77"},
        phones=[PhoneIn("+79161234567")],
        emails=[EmailIn("s.ryabov@example.ru")],
    )
    smith = services.create_client(alice, "person", {"last_name": "Smith", "first_name": "John"})
    company = services.create_client(
        alice, "company", {"company_name": "Рябина", "legal_form": "ООО", "inn": "7707083893"}
    )
    return ryabov, smith, company


def names(query: str) -> list[str]:
    return list(search(Client.objects.all(), query).values_list("name", flat=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("рябов", ["Рябов Семён"]),
        ("РЯБОВ", ["Рябов Семён"]),
        ("семен рябов", ["Рябов Семён"]),
        ("ёмен", ["Рябов Семён"]),
        ("8 (916) 123-45-67", ["Рябов Семён"]),
        ("+7 916 123 45 67", ["Рябов Семён"]),
        ("89161234567", ["Рябов Семён"]),
        ("123-45-67", ["Рябов Семён"]),
        ("S.RYABOV@example", ["Рябов Семён"]),
        ("crm-77", ["Рябов Семён"]),
        ("7707083893", ["ООО Рябина"]),
        ("smi", ["Smith John"]),
        ("jo", ["Smith John"]),
        ("нет такого", []),
        ("%", []),
        ('"', []),
        ("' OR 1=1 --", []),
    ],
)
def test_search_finds(clients, query, expected):
    assert names(query) == expected


def test_prefix_matches_rank_first(clients):
    # The person's name starts with it; the company's name has it after the legal form.
    assert names("ряб") == ["Рябов Семён", "ООО Рябина"]


def test_trashed_clients_are_not_found(clients, alice):
    services.trash_client(alice, clients[0])
    assert names("рябов") == []


def test_search_text_follows_edits(clients, alice):
    ryabov = clients[0]
    services.update_client(alice, ryabov, ryabov.version, {"last_name": "Воробьёв"})
    assert names("рябов") == []
    assert names("воробьев") == ["Воробьёв Семён"]
