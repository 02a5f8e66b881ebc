"""Timeline services: every kind is logged with its fields; bad input names the field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kartoteka.activities.models import Interaction
from kartoteka.activities.queries import colleagues, timeline
from kartoteka.activities.services import log_interaction, trash_interaction, update_interaction
from kartoteka.clients import services


@pytest.fixture
def person(alice):
    return services.create_client(alice, "person", {"last_name": "Иванов"})


def test_log_each_kind(person, alice):
    log_interaction(
        alice, person, {"kind": "call", "direction": "in", "duration_seconds": 95, "result": "ok"}
    )
    log_interaction(
        alice,
        person,
        {
            "kind": "purchase",
            "amount": Decimal("1500.00"),
            "currency": "rub",
            "items": [{"name": "Чай", "quantity": 2, "price": "750"}],
        },
    )
    log_interaction(alice, person, {"kind": "complaint", "summary": "Опоздали"})
    assert Interaction.objects.count() == 3
    purchase = Interaction.objects.get(kind="purchase")
    assert purchase.currency == "RUB"
    assert purchase.items == [{"name": "Чай", "quantity": "2", "price": "750"}]
    assert Interaction.objects.get(kind="complaint").complaint_status == "open"
    person.refresh_from_db()
    assert person.last_contact_at is not None


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"kind": "telepathy"}, "kind"),
        ({"kind": "purchase"}, "amount"),
        ({"kind": "purchase", "amount": Decimal("-1"), "currency": "RUB"}, "amount"),
        ({"kind": "purchase", "amount": Decimal("10"), "currency": "XXX"}, "currency"),
        (
            {
                "kind": "purchase",
                "amount": Decimal("10"),
                "currency": "RUB",
                "items": [{"name": ""}],
            },
            "items.0.name",
        ),
        (
            {"kind": "note", "occurred_at": timezone.now() + timezone.timedelta(days=30)},
            "occurred_at",
        ),
        ({"kind": "note", "author": 1}, "author"),
        ({"kind": "note", "client": 1}, "client"),
    ],
)
def test_bad_input_names_the_field(person, alice, fields, key):
    with pytest.raises(ValidationError) as caught:
        log_interaction(alice, person, fields)
    assert key in caught.value.message_dict
    assert not Interaction.objects.exists()


def test_timeline_of_company_includes_its_people(person, alice, bob):
    company = services.create_client(alice, "company", {"company_name": "Ромашка"})
    services.link_person(alice, person, company, "director")
    log_interaction(alice, company, {"kind": "note", "summary": "company"})
    log_interaction(bob, person, {"kind": "note", "summary": "person"})
    page = timeline(company, alice)
    assert [i.summary for i in page.rows] == ["person", "company"]
    assert {
        c["name"] for c in colleagues(company, alice, timezone.now() - timezone.timedelta(days=1))
    } == {"Alice", "Bob"}


def test_timeline_pages_and_filters(person, alice):
    for i in range(35):
        log_interaction(alice, person, {"kind": "call" if i % 2 else "note", "summary": str(i)})
    first = timeline(person, alice)
    assert len(first.rows) == 30 and first.next_cursor
    second = timeline(person, alice, cursor=first.next_cursor)
    assert len(second.rows) == 5
    assert {i.pk for i in first.rows}.isdisjoint({i.pk for i in second.rows})
    assert {i.kind for i in timeline(person, alice, kind="call").rows} == {"call"}


def test_update_and_trash_keep_last_contact_right(person, alice):
    old = log_interaction(
        alice, person, {"kind": "note", "occurred_at": timezone.now() - timezone.timedelta(days=10)}
    )
    new = log_interaction(alice, person, {"kind": "note"})
    trash_interaction(alice, new)
    person.refresh_from_db()
    assert person.last_contact_at == old.occurred_at
    update_interaction(alice, old, {"summary": "changed"})
    old.refresh_from_db()
    assert old.summary == "changed"


def test_company_timeline_shows_only_people_the_viewer_may_see(alice, carol):
    company = services.create_client(alice, "company", {"company_name": "Общая"})
    outsider = services.create_client(carol, "person", {"last_name": "Чужой"})
    services.link_person(None, outsider, company, "director")
    log_interaction(carol, outsider, {"kind": "note", "summary": "secret"})
    assert [i.summary for i in timeline(company, alice).rows] == []
    assert [i.summary for i in timeline(company, None).rows] == []


def test_timeline_shows_only_interactions_the_role_may_see(alice, helen, carol):
    unowned = services.create_client(None, "person", {"last_name": "Ничей"})
    log_interaction(carol, unowned, {"kind": "note", "summary": "from another team"})
    log_interaction(alice, unowned, {"kind": "note", "summary": "from my team"})
    assert [i.summary for i in timeline(unowned, helen).rows] == ["from my team"]
