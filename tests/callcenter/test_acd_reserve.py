"""The live ACD reserves the operator it names: two calls at once do not both get him, and a
reservation no telephony event follows ends by itself."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kartoteka.callcenter import acd, reservations, services, tasks
from kartoteka.callcenter.acd_models import Skill
from kartoteka.callcenter.models import Operator, OperatorStatusChange
from tests.callcenter.acd_cast import busy, give, idle, skilled_queue
from tests.callcenter.conftest import event, signed

pytestmark = pytest.mark.django_db
STRANGER = "+79990001122"


@pytest.fixture
def one_free(olga, oleg):
    _queue, english = skilled_queue()
    give(olga, english, 7)
    idle(olga, 10)
    busy(oleg)
    return olga


def _open_change(operator: Operator) -> OperatorStatusChange:
    return OperatorStatusChange.objects.get(operator=operator, ended_at__isnull=True)


def test_two_calls_one_operator_one_gets_him(one_free):
    first = acd.route(STRANGER, "sales", "call-1", reserve=True)
    second = acd.route(STRANGER, "sales", "call-2", reserve=True)
    assert (first.operator_id, first.extension) == (one_free.pk, "101")
    assert (second.operator_id, second.extension) == (None, "")
    one_free.refresh_from_db()
    assert (one_free.status, one_free.call_id) == (Operator.Status.RINGING, None)


def test_the_reservation_is_a_row_of_history(one_free):
    acd.route(STRANGER, "sales", "call-1", reserve=True)
    change = _open_change(one_free)
    assert (change.status, change.source) == ("ringing", "call")
    assert change.reason == "reserved for call call-1" and change.call_id is None


def test_asked_again_for_the_same_call_he_is_still_its(one_free):
    acd.route(STRANGER, "sales", "call-1", reserve=True)
    again = acd.route(STRANGER, "sales", "call-1", reserve=True)
    assert again.operator_id == one_free.pk and again.extension == "101"
    assert OperatorStatusChange.objects.filter(operator=one_free, status="ringing").count() == 1


def test_taken_meanwhile_the_router_decides_again_without_him(one_free, oleg, monkeypatch):
    give(oleg, Skill.objects.get(name="English"), 6)
    idle(oleg, 5)  # olga idles longer: she is chosen first
    real = reservations.reserve

    def taken_first(operator_id: int, call_id: str, at: dt.datetime) -> bool:
        if operator_id == one_free.pk:  # another call reserved her between decision and lock
            Operator.objects.filter(pk=operator_id).update(status="ringing")
        return real(operator_id, call_id, at)

    monkeypatch.setattr(reservations, "reserve", taken_first)
    assert acd.route(STRANGER, "sales", "call-1", reserve=True).operator_id == oleg.pk
    monkeypatch.setattr(reservations, "reserve", lambda *args: False)  # everyone, every time
    decision = acd.route(STRANGER, "sales", "call-2", reserve=True)
    assert (decision.operator_id, decision.extension) == (None, "")


def test_without_reserve_the_decision_changes_nothing(one_free):
    assert acd.route(STRANGER, "sales", "call-1").operator_id == one_free.pk
    assert acd.route(STRANGER, "sales", "call-2").operator_id == one_free.pk
    one_free.refresh_from_db()
    assert one_free.status == Operator.Status.AVAILABLE


def test_a_reservation_never_followed_by_events_ends(one_free):
    acd.route(STRANGER, "sales", "call-1", reserve=True)
    reserved_at = Operator.objects.get(pk=one_free.pk).since
    assert reservations.expire(reserved_at + dt.timedelta(seconds=10)) == 0
    assert not tasks.expire_reservations_if_due()  # not yet due
    later = reserved_at + dt.timedelta(seconds=reservations.RESERVE_SECONDS + 1)
    assert reservations.expire(later) == 1
    one_free.refresh_from_db()
    assert one_free.status == Operator.Status.AVAILABLE
    change = _open_change(one_free)
    assert change.source == "timer"
    assert change.started_at == reserved_at + dt.timedelta(seconds=reservations.RESERVE_SECONDS)
    assert acd.route(STRANGER, "sales", "call-2", reserve=True).operator_id == one_free.pk


def test_the_cron_tick_ends_an_overdue_reservation(one_free):
    acd.route(STRANGER, "sales", "call-1", reserve=True)
    long_ago = timezone.now() - dt.timedelta(seconds=reservations.RESERVE_SECONDS + 5)
    Operator.objects.filter(pk=one_free.pk).update(since=long_ago)
    assert tasks.expire_reservations_if_due()
    assert Operator.objects.get(pk=one_free.pk).status == Operator.Status.AVAILABLE


def test_the_ring_takes_over_and_the_timer_leaves_him(one_free):
    acd.route(STRANGER, "sales", "call-1", reserve=True)
    services.handle_event(event("ringing", "call-1", extension="101"))
    one_free.refresh_from_db()
    assert one_free.status == Operator.Status.RINGING and one_free.call is not None
    assert _open_change(one_free).call_id == one_free.call_id
    assert reservations.expire(timezone.now() + dt.timedelta(minutes=5)) == 0
    services.handle_event(event("answered", "call-1", extension="101", seconds=3))
    assert Operator.objects.get(pk=one_free.pk).status == Operator.Status.ON_CALL


def test_answered_without_a_ring_event_takes_the_reservation(one_free):
    acd.route(STRANGER, "sales", "call-1", reserve=True)
    services.handle_event(event("answered", "call-1", extension="101"))
    assert Operator.objects.get(pk=one_free.pk).status == Operator.Status.ON_CALL


def test_the_route_api_reserves(client, one_free):
    first = {"call_id": "api-1", "caller": STRANGER, "queue": "sales"}
    second = {"call_id": "api-2", "caller": STRANGER, "queue": "sales"}
    assert client.post("/api/v1/calls/route", **signed(first)).json()["extension"] == "101"
    assert client.post("/api/v1/calls/route", **signed(second)).json()["extension"] is None
    assert client.post("/api/v1/calls/route", **signed(first)).json()["extension"] == "101"
