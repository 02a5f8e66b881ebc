"""Two deliveries at once (PostgreSQL, real transactions in threads): one call, one ledger row
per event, nothing lost."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection

from kartoteka.callcenter import batch, services
from kartoteka.callcenter.models import Call, ProcessedEvent
from tests.callcenter.conftest import event

pytestmark = [
    # available_apps: the flush after the test leaves the seeded rows as other tests expect.
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serializes writers; nothing races"
    ),
]


def _together(*events, sink=services.handle_event) -> list[BaseException]:  # type: ignore[no-untyped-def]
    from django.db import connections

    errors: list[BaseException] = []
    barrier = threading.Barrier(len(events))

    def run(e) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            outcome = sink(e)
            errors.extend(o for o in outcome or [] if o is not None)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(e,)) for e in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


def test_the_same_event_twice_at_once_applies_once(olga):
    ring = event("ringing", "race-1", extension="101", event_id="dup")
    assert _together(ring, ring, ring) == []
    assert ProcessedEvent.objects.filter(event_id="dup").count() == 1
    assert Call.objects.filter(call_id="race-1").count() == 1


def test_two_first_events_of_one_call_make_one_call(olga):
    ringing = event("ringing", "race-2", extension="101")
    answered = event("answered", "race-2", extension="101", seconds=3)
    assert _together(ringing, answered) == []
    call = Call.objects.get(call_id="race-2")
    assert call.answered_at is not None and ProcessedEvent.objects.count() == 2


def test_two_batches_on_the_same_operators_both_apply(olga, oleg):
    # Listed in opposite orders: the rows are locked in key order, so neither waits on a
    # lock the other holds while holding one it needs (no deadlock, no second's stall).
    first = [
        event("ringing", "race-a1", extension="101"),
        event("ringing", "race-a2", extension="102", caller="+7 903 000 11 01"),
    ]
    second = [
        event("ringing", "race-b1", extension="102", caller="+7 903 000 11 02"),
        event("ringing", "race-b2", extension="101", caller="+7 903 000 11 03"),
        event("ringing", "race-a1", extension="101", event_id="dup-of-nothing"),
    ]
    assert _together(first, second, sink=batch.handle_batch) == []
    assert Call.objects.filter(call_id__startswith="race-").count() == 4
    assert ProcessedEvent.objects.count() == 5
