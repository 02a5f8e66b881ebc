"""The bulk timeline services (the telephony sink's batches): log_interactions writes the same
rows as log_interaction one by one, checks every entry, and is all or nothing;
touch_last_contacts sets what touch_last_contact sets, and again changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kartoteka.activities.models import Interaction
from kartoteka.activities.services import log_interaction, log_interactions, trash_interaction
from kartoteka.clients import services
from kartoteka.clients.models import Client

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
COLUMNS = (
    "client__last_name",
    "author__username",
    "kind",
    "occurred_at",
    "channel",
    "direction",
    "duration_seconds",
    "subject",
    "summary",
    "result",
    "complaint_status",
    "deleted_at",
)


@pytest.fixture
def people(alice) -> list[Client]:
    return [services.create_client(alice, "person", {"last_name": n}) for n in ("Ан", "Бо", "Ве")]


def _entries(people: list[Client]) -> list[tuple[Any, ...]]:
    a, b, c = people
    return [
        (a, {"kind": "call", "direction": "in", "duration_seconds": 95, "occurred_at": T0}),
        (b, {"kind": "call", "subject": "Перезвонить", "occurred_at": T0}),
        (a, {"kind": "note", "occurred_at": T0 + dt.timedelta(hours=1)}),
        (c, {"kind": "complaint", "summary": "Опоздали"}),
    ]


def _rows() -> list[tuple[Any, ...]]:
    rows = Interaction.all_objects.order_by("id").values_list(*COLUMNS)
    return [tuple(r) for r in rows]


def _last_contacts() -> dict[str, Any]:
    return dict(Client.all_objects.values_list("last_name", "last_contact_at"))


def _frozen(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows without the "now" of entries that gave no time (the two runs differ by ms)."""
    return [r if r[2] != "complaint" else r[:3] + r[4:] for r in rows]


def test_the_same_rows_as_one_by_one(alice, people):
    for client, fields in _entries(people):
        log_interaction(alice, client, fields)
    alone, contacts = _rows(), _last_contacts()
    Interaction.all_objects.all().delete()
    Client.all_objects.update(last_contact_at=None)

    made = log_interactions([(alice.pk, c.pk, f) for c, f in _entries(people)])

    assert _frozen(_rows()) == _frozen(alone)
    assert [r.pk for r in made] == list(
        Interaction.objects.order_by("id").values_list("pk", flat=True)
    )
    now = _last_contacts()
    assert now["Ан"] == contacts["Ан"] == T0 + dt.timedelta(hours=1)
    assert now["Бо"] == contacts["Бо"] == T0
    assert now["Ве"] is not None


def test_one_insert_and_one_update_for_many(alice, people):
    entries = [(alice.pk, c.pk, {"kind": "call", "occurred_at": T0}) for c in people * 10]
    with CaptureQueriesContext(connection) as ctx:
        log_interactions(entries)
    writes = [
        q["sql"]
        for q in ctx.captured_queries
        if " INSERT " in f" {q['sql']}" or q["sql"].startswith("UPDATE")
    ]
    assert len(writes) == 2
    assert Interaction.objects.count() == 30


def test_a_bad_entry_is_named_and_nothing_is_written(alice, people):
    entries = [
        (alice.pk, people[0].pk, {"kind": "call"}),
        (alice.pk, people[1].pk, {"kind": "telepathy"}),
        (None, people[2].pk, {"kind": "purchase"}),
    ]
    with pytest.raises(ValidationError) as raised:
        log_interactions(entries)
    assert set(raised.value.message_dict) == {"1.kind", "2.amount"}
    assert Interaction.all_objects.count() == 0
    assert set(_last_contacts().values()) == {None}


def test_nothing_to_log_writes_nothing(alice):
    with CaptureQueriesContext(connection) as ctx:
        assert log_interactions([]) == []
        services.touch_last_contacts([])
    assert ctx.captured_queries == []


def test_touch_last_contacts_matches_one_by_one_and_is_idempotent(alice, people):
    a, b, c = people
    log_interaction(alice, a, {"kind": "call", "occurred_at": T0})
    late = log_interaction(alice, a, {"kind": "note", "occurred_at": T0 + dt.timedelta(days=1)})
    log_interaction(alice, b, {"kind": "call", "occurred_at": T0})
    trash_interaction(alice, late)  # trashed: not a contact
    Client.all_objects.update(last_contact_at=T0 - dt.timedelta(days=9))  # stale

    services.touch_last_contacts([a.pk, b.pk, c.pk, a.pk])
    bulk = _last_contacts()
    services.touch_last_contacts([a.pk, b.pk, c.pk])  # a retry changes nothing
    assert _last_contacts() == bulk
    for client in people:
        services.touch_last_contact(client.pk)
    assert _last_contacts() == bulk == {"Ан": T0, "Бо": T0, "Ве": None}
