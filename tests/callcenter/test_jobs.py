"""Timers and the PBX sync: the cron tick ends after-call work; a provider without set_state
is fine; the calls list costs the same queries for 3 calls and for 30."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kartoteka.activities.models import Interaction
from kartoteka.callcenter import services, statuses, tasks
from kartoteka.callcenter.models import Call
from kartoteka.clients import services as client_services
from kartoteka.clients.services import PhoneIn
from kartoteka.core.management.commands.cron import TICKS
from tests.callcenter.conftest import event

pytestmark = pytest.mark.django_db


def test_the_cron_tick_ends_after_call_work(olga):
    assert tasks.expire_after_call_work_if_due in TICKS
    assert tasks.expire_after_call_work_if_due() is False
    with_lock = statuses.locked(olga)
    statuses.transition(
        with_lock, "after_call", timezone.now() - dt.timedelta(seconds=61), statuses.Source.CALL
    )
    assert tasks.expire_after_call_work_if_due() is True
    olga.refresh_from_db()
    assert olga.status == "available"


def test_a_provider_without_set_state_is_fine(olga, settings):
    settings.TELEPHONY_PROVIDER = "webhook"
    statuses.sync_with_pbx(olga.pk)  # the webhook provider raises Unsupported: swallowed


def test_linking_another_client_moves_the_timeline_entry(
    olga, ivan, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(event("answered", extension="101"))
        services.handle_event(event("ended", seconds=30))
    other = client_services.create_client(
        alice, "person", {"last_name": "Petrov"}, phones=[PhoneIn("+79030001122")]
    )
    call = Call.objects.get()
    services.save_call_card(olga.user, call, call.version, {"client": other})
    assert Interaction.objects.filter(client=ivan).count() == 0
    assert Interaction.objects.get(client=other).pk == Call.objects.get().interaction_id


def _calls(n: int, start: int, capture) -> None:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        for i in range(start, start + n):
            services.handle_event(event("answered", f"q{i}", extension="101", seconds=i))
            services.handle_event(event("ended", f"q{i}", seconds=i + 5))


def test_the_calls_list_costs_the_same_for_more_rows(
    client, olga, ivan, django_capture_on_commit_callbacks
):
    client.force_login(olga.user)
    _calls(3, 0, django_capture_on_commit_callbacks)
    client.get("/calls/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/calls/").status_code == 200
    _calls(27, 3, django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/calls/").content.decode()
    assert page.count('class="call-row') == 30
    assert len(many) == len(few)
