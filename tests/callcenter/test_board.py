"""The supervisor's board pushed over SSE: a render when it changed, never more than about one
a second, scoped like the board page; only supervisors may open it."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient
from django.utils import timezone

from kartoteka.callcenter import board, live, services
from kartoteka.callcenter.models import Call
from tests.callcenter.conftest import event, make_operator

pytestmark = pytest.mark.django_db
LIVE = "/calls/board/live/"


def test_the_stream_sends_the_board_of_the_supervisors_team(client, helen, olga, oleg):
    make_operator("otto", "301")  # in no team: not helen's to see
    client.force_login(helen)
    response = client.get(LIVE + "?seconds=0.3")
    assert response["Content-Type"] == "text/event-stream"
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("retry: 2000") and body.count("event: board") == 1
    assert 'data-extension=\\"101\\"' in body and 'data-extension=\\"102\\"' in body
    assert "301" not in body


def test_only_supervisors_open_the_stream(client, olga):
    client.force_login(olga.user)
    assert client.get(LIVE).status_code == 403
    client.logout()
    assert client.get(LIVE).status_code == 302  # to the login page


def test_a_render_when_it_changed_and_not_more_than_once_a_second(
    helen, olga, ivan, django_capture_on_commit_callbacks
):
    pacer = board.pacer(helen)
    first, wait = pacer.next(100.0)
    assert first is not None and b"event: board" in first and wait == live.RENDER_SECONDS
    assert pacer.next(101.0) == (None, live.CHECK_SECONDS)  # nothing changed
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(event("ringing", extension="101"))
    second, _wait = pacer.next(101.5)
    assert second is not None and b"status-ringing" in second
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(
            event("queued", "q1", caller="+7 903 000 11 22", queue="sales", at=timezone.now())
        )
    third, _wait = pacer.next(102.5)
    assert third is not None and b"sales" in third and b"data-since" in third
    # Unchanged, it still renders now and then (limits passed, operators added).
    assert pacer.next(102.5 + live.REFRESH_SECONDS)[0] is not None


def test_the_version_moves_with_statuses_and_waiting_calls(
    olga, django_capture_on_commit_callbacks
):
    before = live.version()
    services.set_status(olga.user, olga, "offline")
    after_status = live.version()
    assert after_status != before
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(event("queued", "q1", queue="sales"))
    assert live.version() != after_status
    Call.objects.filter(call_id="q1").update(status="abandoned")
    assert live.version()[1] == 0


def test_the_async_stream_pushes_a_change(helen, olga, django_capture_on_commit_callbacks):
    async def run() -> bytes:
        client = AsyncClient()
        await client.aforce_login(helen)
        response = await client.get(LIVE + "?seconds=4")
        chunks = aiter(response.streaming_content)
        assert await anext(chunks) == b"retry: 2000\n\n"
        assert b"status-available" in await asyncio.wait_for(anext(chunks), 3)
        await sync_to_async(services.set_status)(olga.user, olga, "offline")
        return await asyncio.wait_for(anext(chunks), 4)

    assert b"status-offline" in async_to_sync(run)()


def test_the_board_page_goes_live(client, helen, olga):
    client.force_login(helen)
    page = client.get("/calls/board/").content.decode()
    assert f'data-live="{LIVE}"' in page and "callcenter/live.js" in page
    assert 'class="board-timer" data-since="' in page
    assert 'hx-trigger="every' not in page  # no polling while the stream works


WALL = "/calls/wallboard/live/"


def test_the_wallboard_streams_with_its_settings(client, helen, olga):
    Call.objects.create(
        provider="t", call_id="w1", queue="sales", status="queued", started_at=timezone.now()
    )
    client.force_login(helen)
    page = client.get(
        "/calls/wallboard/", {"answer_s": 30, "variant": "answered", "short_abandon_s": 5}
    ).content.decode()
    assert f'data-live="{WALL}?answer_s=30' in page and "callcenter/live.js" in page
    assert 'hx-trigger="every' not in page and 'board-timer" data-since="' in page
    response = client.get(
        WALL, {"answer_s": 30, "variant": "answered", "short_abandon_s": 5, "seconds": 0.3}
    )
    body = b"".join(response.streaming_content).decode()
    assert body.count("event: wallboard") == 1
    assert "answered within 30 s" in body and 'data-queue=\\"sales\\"' in body


def test_only_supervisors_open_the_wallboard_stream(client, olga, helen):
    client.force_login(olga.user)
    assert client.get(WALL).status_code == 403
    client.force_login(helen)
    assert client.get(WALL, {"answer_s": "0"}).status_code == 422
    client.logout()
    assert client.get(WALL).status_code == 302


def test_the_version_moves_with_a_new_call(olga):
    before = live.version()
    Call.objects.create(provider="t", call_id="n1", status="ended", started_at=timezone.now())
    assert live.version() != before
