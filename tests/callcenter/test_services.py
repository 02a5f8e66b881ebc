"""handle_event, the sink every provider feeds: idempotent, tolerant of order, never losing."""

from __future__ import annotations

import datetime as dt

import pytest

from kartoteka.activities.models import Interaction
from kartoteka.callcenter import services, statuses
from kartoteka.callcenter.models import (
    BreakReason,
    Call,
    Disposition,
    Operator,
    OperatorStatusChange,
    ProcessedEvent,
    Queue,
)
from kartoteka.callcenter.providers.base import OperatorEvent, OperatorState
from kartoteka.core.errors import StaleVersion
from kartoteka.core.models import RealtimeEvent
from kartoteka.planner.models import Task
from tests.callcenter.conftest import T0, event

pytestmark = pytest.mark.django_db


def run(capture, *events) -> None:
    with capture(execute=True):
        for e in events:
            services.handle_event(e)


def test_a_whole_call_is_recorded_with_times_client_and_timeline(
    olga, ivan, django_capture_on_commit_callbacks
):
    run(
        django_capture_on_commit_callbacks,
        event("ringing", extension="101", queue="sales", ivr={"menu": "2"}),
        event("answered", extension="101", seconds=12),
        event("ended", seconds=72),
    )
    call = Call.objects.get()
    assert call.client == ivan and call.caller_e164 == "+79161234567"
    assert call.user == olga.user and call.queue == "sales" and call.ivr == {"menu": "2"}
    assert (call.wait_seconds, call.talk_seconds, call.status) == (12, 60, "ended")
    interaction = Interaction.objects.get(client=ivan)
    assert interaction.pk == call.interaction_id and interaction.duration_seconds == 60
    assert interaction.author == olga.user and interaction.kind == "call"
    olga.refresh_from_db()
    assert olga.status == "after_call" and olga.acw_until == T0 + dt.timedelta(seconds=132)
    history = list(OperatorStatusChange.objects.order_by("id").values_list("status", "ended_at"))
    assert [s for s, _e in history] == ["ringing", "on_call", "after_call"]
    assert history[0][1] == T0 + dt.timedelta(seconds=12)


def test_the_screen_pop_reaches_the_operator_it_rings(
    olga, oleg, ivan, django_capture_on_commit_callbacks
):
    run(django_capture_on_commit_callbacks, event("ringing", extension="101"))
    pops = RealtimeEvent.objects.filter(event="call")
    assert [p.user_id for p in pops] == [olga.user_id]
    assert pops[0].data["stage"] == "ringing" and pops[0].data["pop"].endswith("/pop/")


def test_a_repeated_event_changes_nothing(olga, ivan, django_capture_on_commit_callbacks):
    ring = event("ringing", extension="101", event_id="same")
    run(django_capture_on_commit_callbacks, ring, event("answered", extension="101", seconds=5))
    before = Call.objects.values().get()
    changes = OperatorStatusChange.objects.count()
    run(django_capture_on_commit_callbacks, ring, ring)
    assert Call.objects.values().get() == before
    assert OperatorStatusChange.objects.count() == changes
    assert ProcessedEvent.objects.count() == 2


def test_events_out_of_order_end_the_same(olga, ivan, django_capture_on_commit_callbacks):
    run(
        django_capture_on_commit_callbacks,
        event("ended", seconds=72),
        event("answered", extension="101", seconds=12),
        event("ringing", extension="101"),
    )
    call = Call.objects.get()
    assert call.started_at == T0 and call.status == "ended"
    assert (call.wait_seconds, call.talk_seconds) == (12, 60)
    assert call.callback_task is not None  # made while it looked missed...
    assert call.callback_task.status == Task.Status.CANCELLED  # ...withdrawn once answered
    assert Interaction.objects.get(client=ivan).result == "ended"


def test_answered_for_an_unknown_call_creates_it(olga, django_capture_on_commit_callbacks):
    run(django_capture_on_commit_callbacks, event("answered", "new", extension="101"))
    call = Call.objects.get(call_id="new")
    assert call.status == "answered" and call.answered_at == T0
    olga.refresh_from_db()
    assert olga.status == "on_call" and olga.call == call


def test_unknown_extension_and_queue_are_recorded_not_raised(django_capture_on_commit_callbacks):
    run(
        django_capture_on_commit_callbacks,
        event("ringing", extension="999", queue="nowhere"),
        event("ended", seconds=5, extension="999"),
        OperatorEvent("webhook", "op1", "999", OperatorState.PAUSED, T0),
    )
    call = Call.objects.get()
    assert call.extension == "999" and call.queue == "nowhere" and call.status == "missed"
    assert call.user is None and call.callback_task is None  # nobody to give it to: in the report
    assert ProcessedEvent.objects.count() == 3


def test_a_missed_call_becomes_a_task_for_the_clients_owner(
    olga, ivan, alice, django_capture_on_commit_callbacks
):
    run(
        django_capture_on_commit_callbacks,
        event("ringing", extension="101"),
        event("ended", seconds=20),
    )
    call = Call.objects.get()
    assert call.status == "missed"
    task = call.callback_task
    assert task.assignee == alice and task.kind == "call" and task.is_active
    assert list(task.links.values_list("client_id", flat=True)) == [ivan.pk]
    olga.refresh_from_db()
    assert olga.status == "available"  # rang, not taken: back to available


def test_an_abandoned_call_of_an_unknown_number_goes_to_the_queue(
    bob, django_capture_on_commit_callbacks
):
    Queue.objects.create(name="support", callback_user=bob)
    run(
        django_capture_on_commit_callbacks,
        event("queued", caller="+7 903 000 11 22", queue="support"),
        event("abandoned", caller="+7 903 000 11 22", seconds=40),
    )
    call = Call.objects.get()
    assert call.status == "abandoned" and call.client is None
    assert call.callback_task.assignee == bob


def test_calling_back_is_timed(olga, ivan, django_capture_on_commit_callbacks):
    run(
        django_capture_on_commit_callbacks,
        event("ringing", "in1", extension="101"),
        event("ended", "in1", seconds=20),
        event(
            "ringing",
            "out1",
            direction="out",
            caller="101",
            callee="89161234567",
            extension="101",
            seconds=320,
        ),
    )
    lost = Call.objects.get(call_id="in1")
    assert lost.called_back_at == T0 + dt.timedelta(seconds=320)


def test_acw_ends_at_its_limit(olga, ivan, django_capture_on_commit_callbacks):
    run(
        django_capture_on_commit_callbacks,
        event("answered", extension="101"),
        event("ended", seconds=30),
    )
    olga.refresh_from_db()
    assert olga.status == "after_call"
    assert statuses.expire_after_call_work(T0 + dt.timedelta(seconds=60)) == 0
    assert statuses.expire_after_call_work(T0 + dt.timedelta(seconds=91)) == 1
    olga.refresh_from_db()
    assert olga.status == "available" and olga.since == T0 + dt.timedelta(seconds=90)
    last = OperatorStatusChange.objects.order_by("-id").first()
    assert last.source == "timer"


def test_the_pbx_pauses_and_unpauses(olga, django_capture_on_commit_callbacks):
    lunch = BreakReason.objects.create(name="lunch")
    run(
        django_capture_on_commit_callbacks,
        OperatorEvent("webhook", "p1", "101", OperatorState.PAUSED, T0, reason="lunch"),
    )
    olga.refresh_from_db()
    assert (olga.status, olga.break_reason) == ("break", lunch)
    run(
        django_capture_on_commit_callbacks,
        OperatorEvent("webhook", "p2", "101", OperatorState.AVAILABLE, T0),
    )
    olga.refresh_from_db()
    assert olga.status == "available"


def test_set_status_validates_and_syncs_the_pbx(olga, settings, django_capture_on_commit_callbacks):
    from kartoteka.callcenter.providers.base import Provider

    told: list[tuple] = []

    class Fake(Provider):
        code = "fake"
        name = "Fake"

        def originate(self, extension: str, number: str) -> None: ...

        def set_state(self, extension, state, queue="", reason=""):  # type: ignore[no-untyped-def]
            told.append((extension, state, reason))

    settings.TELEPHONY_PROVIDER = "fake"
    from kartoteka.callcenter import providers

    providers.PATHS["fake"] = f"{__name__}.Fake"
    globals()["Fake"] = Fake
    try:
        lunch = BreakReason.objects.create(name="lunch", limit_minutes=30)
        with pytest.raises(services.ValidationError) as caught:
            services.set_status(olga.user, olga, "break")
        assert "break_reason" in caught.value.message_dict
        with pytest.raises(services.ValidationError):
            services.set_status(olga.user, olga, "on_call")
        with django_capture_on_commit_callbacks(execute=True):
            services.set_status(olga.user, olga, "break", break_reason=lunch)
        assert told == [("101", OperatorState.PAUSED, "lunch")]
    finally:
        providers.PATHS.pop("fake")


def test_nobody_else_sets_an_operators_status(olga, carol):
    with pytest.raises(services.Denied):
        services.set_status(carol, olga, "offline")
    olga.refresh_from_db()
    assert olga.status == "available"


def test_the_call_card_saves_with_its_version(olga, ivan, django_capture_on_commit_callbacks):
    sale = Disposition.objects.create(name="sale")
    run(
        django_capture_on_commit_callbacks,
        event("answered", extension="101"),
        event("ended", seconds=30),
    )
    call = Call.objects.get()
    saved = services.save_call_card(
        olga.user, call, call.version, {"disposition": sale, "summary": "Wants a quote"}
    )
    interaction = Interaction.objects.get(client=ivan)
    assert interaction.result == "sale" and interaction.summary == "Wants a quote"
    with pytest.raises(StaleVersion):
        services.save_call_card(olga.user, call, call.version, {"summary": "late"})
    assert Call.objects.get().summary == "Wants a quote" and saved.version == call.version + 1


def test_an_operator_may_not_fill_anothers_card(olga, oleg, django_capture_on_commit_callbacks):
    run(django_capture_on_commit_callbacks, event("answered", extension="101"))
    call = Call.objects.get()
    with pytest.raises(services.Denied):
        services.save_call_card(oleg.user, call, call.version, {"summary": "x"})
    assert Call.objects.get().summary == ""


def test_click_to_call_without_telephony_says_so(olga, settings):
    settings.TELEPHONY_PROVIDER = ""
    with pytest.raises(services.ValidationError) as caught:
        services.click_to_call(olga.user, "+7 916 123 45 67")
    assert "number" in caught.value.message_dict


def test_click_to_call_through_the_webhook_provider(olga, settings, monkeypatch):
    from kartoteka.callcenter.providers.webhook.provider import WebhookProvider

    placed: list[tuple[str, str]] = []
    monkeypatch.setattr(WebhookProvider, "originate", lambda self, e, n: placed.append((e, n)))
    settings.TELEPHONY_PROVIDER = "webhook"
    assert services.click_to_call(olga.user, "8 916 123-45-67") == "+79161234567"
    assert placed == [("101", "+79161234567")]
    with pytest.raises(services.ValidationError):
        services.click_to_call(olga.user, "not a number")


def test_merging_clients_moves_their_calls():
    from kartoteka.dedup.registry import LINKS

    assert any(link.model == "callcenter.Call" and link.field == "client" for link in LINKS)


def test_operator_rows_stay_one_per_user(olga):
    assert Operator.objects.filter(user=olga.user).count() == 1
