"""The supervisor's board pushed over SSE: a render when it changed, never more than about one
a second, scoped like the board page; only supervisors may open it."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient
from django.utils import timezone

from kartoteka.callcenter import board, services
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
    pacer = board.Pacer()
    first, wait = pacer.next(helen, 100.0)
    assert first is not None and b"event: board" in first and wait == board.RENDER_SECONDS
    assert pacer.next(helen, 101.0) == (None, board.CHECK_SECONDS)  # nothing changed
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(event("ringing", extension="101"))
    second, _wait = pacer.next(helen, 101.5)
    assert second is not None and b"status-ringing" in second
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(
            event("queued", "q1", caller="+7 903 000 11 22", queue="sales", at=timezone.now())
        )
    third, _wait = pacer.next(helen, 102.5)
    assert third is not None and b"sales" in third and b"data-since" in third
    # Unchanged, it still renders now and then (limits passed, operators added).
    assert pacer.next(helen, 102.5 + board.REFRESH_SECONDS)[0] is not None


def test_the_version_moves_with_statuses_and_waiting_calls(
    olga, django_capture_on_commit_callbacks
):
    before = board.version()
    services.set_status(olga.user, olga, "offline")
    after_status = board.version()
    assert after_status != before
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(event("queued", "q1", queue="sales"))
    assert board.version() != after_status
    Call.objects.filter(call_id="q1").update(status="abandoned")
    assert board.version()[1] == 0


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
    assert f'data-live="{LIVE}"' in page and "callcenter/board.js" in page
    assert 'class="board-timer" data-since="' in page
    assert 'hx-trigger="every' not in page  # no polling while the stream works
