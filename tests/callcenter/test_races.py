"""Two deliveries at once (PostgreSQL, real transactions in threads): one call, one ledger row
per event, nothing lost."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection

from kartoteka.callcenter import services
from kartoteka.callcenter.models import Call, ProcessedEvent
from tests.callcenter.conftest import event

pytestmark = [
    # available_apps: the flush after the test leaves the seeded rows as other tests expect.
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serializes writers; nothing races"
    ),
]


def _together(*events) -> list[BaseException]:  # type: ignore[no-untyped-def]
    from django.db import connections

    errors: list[BaseException] = []
    barrier = threading.Barrier(len(events))

    def run(e) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            services.handle_event(e)
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
