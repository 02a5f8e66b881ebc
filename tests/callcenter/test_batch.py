"""Group commit (callcenter.batch): many events in one transaction end exactly as they would one
by one — repeats dropped, order tolerated — and a failing event fails alone."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest
from django.db import connection

from kartoteka.activities.models import Interaction
from kartoteka.callcenter import batch, lookup, services
from kartoteka.callcenter.models import BreakReason, Call, OperatorStatusChange, ProcessedEvent
from kartoteka.callcenter.providers.base import OperatorEvent, OperatorState
from kartoteka.callcenter.providers.webhook import asgi as door
from kartoteka.clients import services as client_services
from kartoteka.clients.models import Client
from kartoteka.clients.services import PhoneIn
from kartoteka.core.models import RealtimeEvent
from tests.callcenter.conftest import T0, event

pytestmark = pytest.mark.django_db


def _calls() -> list[dict[str, Any]]:
    return list(
        Call.objects.order_by("call_id").values(
            "call_id", "status", "answered_at", "ended_at", "user_id", "client_id", "queue"
        )
    )


def _timeline() -> list[tuple[Any, ...]]:
    """Each call's timeline entry (through its link) and its client's last contact."""
    rows = Call.objects.order_by("call_id").values_list(
        "call_id",
        "interaction__client_id",
        "interaction__author_id",
        "interaction__occurred_at",
        "interaction__duration_seconds",
        "interaction__subject",
        "interaction__result",
        "interaction__client__last_contact_at",
    )
    return [*rows, Interaction.all_objects.count()]


def _history() -> list[tuple[Any, ...]]:
    rows = OperatorStatusChange.objects.order_by("id")
    return list(rows.values_list("operator__extension", "status", "started_at", "ended_at"))


def _break_event(event_id: str, monkeypatch: Any) -> None:
    real = services.apply

    def flaky(e: Any, rows: Any) -> None:
        if e.event_id == event_id:
            raise RuntimeError("this one breaks")
        real(e, rows)

    monkeypatch.setattr(services, "apply", flaky)


def _story() -> list[Any]:
    """Two calls to two operators, interleaved as a PBX sends them; c2's end comes before
    its answer."""
    return [
        event("ringing", "c1", extension="101", queue="sales", event_id="a1"),
        event("ringing", "c2", extension="102", caller="+7 903 000 11 22", event_id="b1"),
        event("answered", "c1", extension="101", seconds=5, event_id="a2"),
        event("ended", "c2", seconds=30, event_id="b3"),
        event("answered", "c2", extension="102", seconds=8, event_id="b2"),
        event("ended", "c1", seconds=65, event_id="a3"),
    ]


def test_a_batch_ends_as_one_by_one(olga, oleg, ivan, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for e in _story():
            services.handle_event(e)
    alone = (_calls(), _history(), ProcessedEvent.objects.count(), _timeline())
    Interaction.all_objects.all().delete()
    Client.all_objects.update(last_contact_at=None)
    Call.objects.all().delete()
    OperatorStatusChange.objects.all().delete()
    ProcessedEvent.objects.all().delete()
    for op in (olga, oleg):
        op.save()  # back to available, as the fixtures made them
    with django_capture_on_commit_callbacks(execute=True):
        assert batch.handle_batch(_story()) == [None] * 6
    assert (_calls(), _history(), ProcessedEvent.objects.count(), _timeline()) == alone
    ended = {c["call_id"]: c["status"] for c in _calls()}
    assert ended == {"c1": "ended", "c2": "ended"}
    assert Interaction.objects.filter(client=ivan).count() == 1  # c1's; c2's number is no one's


def test_a_batch_writes_its_timeline_once_however_retried(
    olga, oleg, ivan, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        batch.handle_batch(_story())
        batch.handle_batch(_story())  # the PBX sends it all again
    first = _timeline()
    assert first[-1] == 1  # c1's (c2's number is no client's)
    _break_event("c3r", monkeypatch)  # a failed batch is applied again one by one
    story = [event("ringing", "c3", extension="101", event_id="c3r"), *_story()]
    story.append(event("ended", "c3", seconds=9, event_id="c3e"))
    with django_capture_on_commit_callbacks(execute=True):
        batch.handle_batch(story)
    now = _timeline()
    assert [row[:7] for row in now[:2]] == [row[:7] for row in first[:2]]  # c1, c2 as they were
    assert now[-1] == 2
    assert Call.objects.get(call_id="c3").interaction.client == ivan


def test_a_batch_skips_a_client_in_the_trash(olga, ivan, alice):
    client_services.trash_client(alice, ivan)
    story = [event("ringing", "c1", extension="101"), event("ended", "c1", seconds=4)]
    batch.handle_batch(story)
    assert Interaction.all_objects.count() == 0
    assert Call.objects.get().interaction_id is None


@pytest.mark.parametrize("split", [0, 2], ids=["all in one batch", "rung before the batch"])
def test_ring_all_releases_the_operators_who_did_not_take_it(
    olga, oleg, ivan, split, django_capture_on_commit_callbacks
):
    events = [
        event("ringing", "c1", extension="101"),
        event("ringing", "c1", extension="102"),
        event("answered", "c1", extension="102", seconds=4),
        event("ended", "c1", seconds=40),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for e in events[:split]:
            services.handle_event(e)
        assert batch.handle_batch(events[split:]) == [None] * (len(events) - split)
    olga.refresh_from_db()
    oleg.refresh_from_db()
    assert (olga.status, oleg.status) == ("available", "after_call")
    assert [s for _e, s, *_t in _history() if _e == "101"] == ["ringing", "available"]


def test_the_pbxs_operator_events_take_their_turn_in_a_batch(
    olga, ivan, django_capture_on_commit_callbacks
):
    lunch = BreakReason.objects.create(name="lunch")
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = batch.handle_batch(
            [
                event("ringing", "c1", extension="101"),
                event("ended", "c1", seconds=20),  # missed: olga is available again...
                OperatorEvent("webhook", "p1", "101", OperatorState.PAUSED, T0, reason="lunch"),
                OperatorEvent("webhook", "p2", "999", OperatorState.OFFLINE, T0),  # nobody
            ]
        )
    assert outcomes == [None] * 4
    olga.refresh_from_db()
    assert (olga.status, olga.break_reason) == ("break", lunch)  # ...then paused by the PBX
    assert [s for _e, s, *_t in _history()] == ["ringing", "available", "break"]


def test_repeats_inside_and_across_batches_apply_once(
    olga, ivan, django_capture_on_commit_callbacks
):
    ring = event("ringing", "c1", extension="101", event_id="same")
    with django_capture_on_commit_callbacks(execute=True):
        batch.handle_batch([ring])
        outcomes = batch.handle_batch(
            [ring, event("answered", "c1", extension="101", seconds=3, event_id="ans"), ring]
        )
    assert outcomes == [None, None, None]
    assert ProcessedEvent.objects.count() == 2
    assert list(OperatorStatusChange.objects.values_list("status", flat=True)) == [
        "on_call",
        "ringing",
    ]
    assert Call.objects.get().status == "answered"


def test_a_failing_event_fails_alone(olga, oleg, ivan, monkeypatch, caplog):
    _break_event("bad", monkeypatch)
    events = [
        event("ringing", "c1", extension="101", event_id="ok1"),
        event("ringing", "c2", extension="102", event_id="bad"),
        event("answered", "c1", extension="101", seconds=2, event_id="ok2"),
    ]
    outcomes = batch.handle_batch(events)
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], RuntimeError)
    assert set(ProcessedEvent.objects.values_list("event_id", flat=True)) == {"ok1", "ok2"}
    assert not Call.objects.filter(call_id="c2").exists()  # nothing half-written
    assert Call.objects.get(call_id="c1").status == "answered"
    assert "one by one" in caplog.text


def test_pops_go_out_once_the_batch_commits(olga, oleg, ivan, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batch.handle_batch(
            [
                event("ringing", "c1", extension="101"),
                event("ringing", "c2", extension="102", caller="+7 903 000 11 22"),
            ]
        )
    pops = RealtimeEvent.objects.filter(event="call").order_by("id")
    assert [p.user_id for p in pops] == [olga.user_id, oleg.user_id]
    assert pops[0].data["pop"] == f"/calls/{Call.objects.get(call_id='c1').pk}/pop/"


def test_a_batch_costs_fewer_statements_than_its_events(
    olga, oleg, ivan, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):  # BEGIN … COMMIT of one ringing event
        services.handle_event(event("ringing", "c0", extension="101"))
    rings = [
        event("ringing", f"c{n}", extension="102", caller=f"+7 903 000 11 {n:02d}")
        for n in range(1, 11)
    ]
    # Ten ringing events one by one would cost ~100; together: one ledger statement, one lock
    # of the calls and one of the operators, each call's insert and one status change.
    with django_assert_max_num_queries(30):
        assert batch.handle_batch(rings) == [None] * 10


def test_the_writer_answers_each_request_for_its_own_events(olga, oleg, monkeypatch):
    _break_event("bad", monkeypatch)
    monkeypatch.setattr(door, "_keep_connection", lambda: None)
    first: Future[list[batch.Outcome]] = Future()
    second: Future[list[batch.Outcome]] = Future()
    door.Writer.write(
        [
            ([event("ringing", "c1", extension="101", event_id="ok")], first),
            ([event("ringing", "c2", extension="102", event_id="bad")], second),
        ]
    )
    assert first.result(0) == [None]
    assert isinstance(second.result(0)[0], RuntimeError)
    assert list(ProcessedEvent.objects.values_list("event_id", flat=True)) == ["ok"]


def test_numbers_looked_up_at_once_match_one_by_one(ivan, alice):
    twin = {"last_name": "Petrov", "owner": alice}
    for _n in range(3):  # one number, three clients: two say "not unique"
        client_services.create_client(alice, "person", twin, phones=[PhoneIn("+7 903 000 11 22")])
    numbers = ["+79161234567", "+79030001122", "+79990000000", ""]
    assert lookup.client_ids_many(numbers) == {n: lookup.client_ids(n) for n in numbers if n}
    found = lookup.client_ids_many(numbers)
    assert (found["+79161234567"], len(found["+79030001122"])) == ([ivan.pk], 2)


def test_the_writer_takes_requests_that_ring_first(monkeypatch):
    writer = door.Writer(1)
    monkeypatch.setattr(writer, "_ensure_threads", lambda: None)  # taken by hand below
    monkeypatch.setattr(batch, "MAX_EVENTS", 3)
    for e in (
        event("ended", "c1", event_id="e1"),
        event("answered", "c2", event_id="a2"),
        event("ringing", "c3", event_id="r3"),
        event("ended", "c4", event_id="e4"),
        event("ringing", "c5", event_id="r5"),
    ):
        writer.submit([e])
    taken = [[e.event_id for e in events] for events, _done in writer._take()]
    assert taken == [["r3"], ["r5"], ["e1"]]  # then the others, in the order they came
    assert [[e.event_id for e in events] for events, _done in writer._take()] == [["a2"], ["e4"]]


def test_a_call_lost_and_then_answered_in_one_batch_owes_no_call_back(olga, ivan):
    # The end came first (a missed call, whose call-back waits for the calls' write), then
    # its answer: the call-back is decided on the call as the batch left it.
    story = [
        event("ringing", "c1", extension="101"),
        event("ended", "c1", seconds=20),
        event("answered", "c1", extension="101", seconds=5),
    ]
    assert batch.handle_batch(story) == [None] * 3
    call = Call.objects.get()
    assert (call.status, call.callback_task_id) == ("ended", None)


def test_events_never_overwrite_the_operators_card(olga, ivan):
    services.handle_event(event("ringing", "c1", extension="101"))
    call = Call.objects.get()
    services.save_call_card(olga.user, call, call.version, {"summary": "Wants a discount"})
    assert batch.handle_batch([event("answered", "c1", extension="101", seconds=3)]) == [None]
    services.handle_event(event("ended", "c1", seconds=60))
    call.refresh_from_db()
    assert (call.status, call.summary) == ("ended", "Wants a discount")
    assert call.interaction.summary == "Wants a discount"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_the_writers_prepared_statements_apply_batches_alike(olga, ivan):
    connection.ensure_connection()
    raw = connection.connection
    kept = raw.cursor_factory, raw.prepare_threshold
    try:
        door._prepare_statements()
        assert raw.prepare_threshold == 1
        for n in range(4):  # the same statements again and again: prepared from the second
            story = [
                event("ringing", f"p{n}", extension="101"),
                event("answered", f"p{n}", extension="101", seconds=2),
                event("ended", f"p{n}", seconds=30),
            ]
            assert batch.handle_batch(story) == [None] * 3
    finally:
        raw.cursor_factory, raw.prepare_threshold = kept
    assert list(Call.objects.values_list("status", flat=True).distinct()) == ["ended"]
    assert Interaction.objects.filter(client=ivan).count() == 4


def test_an_outbound_call_marks_a_lost_call_of_the_same_batch_called_back(olga, ivan):
    story = [
        event("ringing", "in1", extension="101"),
        event("ended", "in1", seconds=20),  # missed
        event("ringing", "out1", direction="out", callee="+7 916 123-45-67", seconds=30),
    ]
    assert batch.handle_batch(story) == [None] * 3
    lost = Call.objects.get(call_id="in1")
    assert lost.status == "missed" and lost.callback_task_id is not None
    assert lost.called_back_at == Call.objects.get(call_id="out1").started_at
