"""The demo loader: valid, searchable, deterministic data that can be added more than once."""

from __future__ import annotations

import json
import re
from io import StringIO

import phonenumbers
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Max
from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.clients import demo, search_index, services
from kartoteka.clients.models import Client, Email, Employment, Phone
from kartoteka.clients.search import search

NOW = 1_790_000_000  # a fixed "now" so that two loads with one seed are identical

pytestmark = pytest.mark.django_db


def _batch(first_id: int, count: int) -> list[tuple[str, str, str, str, str]]:
    rows = Client.all_objects.filter(id__gte=first_id, id__lt=first_id + count).order_by("id")
    return list(rows.values_list("kind", "name", "primary_phone", "primary_email", "inn"))


def test_small_load_writes_valid_russian_data():
    summary = demo.load(60, seed=3, interactions_per_client=4, now=NOW)

    assert summary.clients == 60 == Client.objects.count()
    assert summary.interactions == Interaction.objects.count() > 0
    assert User.objects.filter(username__startswith="manager").count() == demo.MANAGERS
    for phone in Phone.objects.all():
        number = phonenumbers.parse(phone.raw, "RU")
        assert phonenumbers.is_valid_number(number)
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == phone.e164
    for company in Client.objects.filter(kind=Client.Kind.COMPANY):
        assert stdnum_inn.is_valid(company.inn) and stdnum_ogrn.is_valid(company.ogrn)
        assert company.kpp == "" or re.fullmatch(r"\d{9}", company.kpp)
        assert company.name.startswith(("ООО", "АО", "ИП"))
    assert Employment.objects.exists()
    assert all("@" in e for e in Email.objects.values_list("email", flat=True))


def test_derived_columns_follow_the_services_rules():
    demo.load(40, seed=5, now=NOW)

    for client in Client.objects.all():
        stored = (
            client.primary_phone,
            client.primary_email,
            client.search_text,
            client.completeness,
        )
        services.refresh_client(client)
        client.refresh_from_db()
        assert (
            client.primary_phone,
            client.primary_email,
            client.search_text,
            client.completeness,
        ) == stored
        newest = client.interactions.aggregate(at=Max("occurred_at"))["at"]
        assert client.last_contact_at == newest


def test_search_finds_loaded_clients_by_name_phone_and_email():
    demo.load(50, seed=11, now=NOW)
    person = Client.objects.filter(kind=Client.Kind.PERSON).exclude(middle_name="").first()
    assert person is not None
    digits = person.primary_phone[2:]

    assert person in search(Client.objects.all(), person.last_name[:5])
    assert person in search(Client.objects.all(), f"{person.first_name} {person.last_name}")
    assert person in search(
        Client.objects.all(), f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
    )
    assert person in search(Client.objects.all(), person.primary_email.split("@")[0])


def test_the_same_seed_gives_the_same_data():
    first = demo.reserve_client_ids(0)
    demo.load(30, seed=42, now=NOW)
    second = demo.reserve_client_ids(0)
    demo.load(30, seed=42, now=NOW)
    third = demo.reserve_client_ids(0)
    demo.load(30, seed=43, now=NOW)

    assert _batch(first, 30) == _batch(second, 30)
    assert _batch(first, 30) != _batch(third, 30)


def test_running_twice_adds_rows_without_id_clashes(admin):
    services.create_client(admin, Client.Kind.PERSON, {"last_name": "Existing"})
    demo.load(25, seed=1, now=NOW)
    demo.load(25, seed=1, now=NOW)

    assert Client.objects.count() == 51
    created = services.create_client(admin, Client.Kind.PERSON, {"last_name": "After"})
    assert Client.objects.filter(pk=created.pk).count() == 1
    assert created.pk > Client.objects.exclude(pk=created.pk).aggregate(m=Max("id"))["m"]


def test_bulk_path_rebuilds_the_search_index_and_restores_triggers_and_indexes(admin):
    demo.load(10, seed=2, now=NOW)
    indexes = demo.demo_indexes()

    demo.load(30, seed=9, now=NOW, bulk_threshold=1, chunk_size=7)

    assert demo.demo_indexes() == indexes
    assert Client.objects.count() == 40
    loaded = Client.objects.order_by("-id").first()
    assert loaded is not None and loaded in search(
        Client.objects.all(), loaded.name.split()[-1][:6]
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            triggers = {row[0] for row in cursor.fetchall()}
        assert triggers >= set(search_index.TRIGGERS)
    later = services.create_client(admin, Client.Kind.PERSON, {"last_name": "Щукина"})
    assert later in search(Client.objects.all(), "щукин")


def test_command_prints_a_json_summary():
    out = StringIO()
    call_command("demo", clients=5, seed=1, interactions_per_client=2, json=True, stdout=out)

    figures = json.loads(out.getvalue())
    assert figures["clients"] == 5
    assert set(figures) >= {"clients", "interactions", "seconds", "rows_per_second"}


def test_heavy_card_gets_its_interactions():
    demo.load(3, seed=1, now=NOW)
    client = Client.objects.first()
    assert client is not None

    assert demo.add_interactions(client.pk, 50) == 50
    client.refresh_from_db()
    assert client.interactions.count() >= 50
    assert client.last_contact_at == client.interactions.aggregate(at=Max("occurred_at"))["at"]
