"""Live events: what publish() sends reaches the user's open stream, and nobody else's."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient

from kartoteka.core import realtime
from kartoteka.core.models import RealtimeEvent


def _publish(capture, user_id: int, event: str, data: dict) -> None:
    with capture(execute=True):
        realtime.publish(user_id, event, data)


def test_published_event_reaches_a_connected_async_stream(
    alice, bob, django_capture_on_commit_callbacks
):
    async def run() -> list[bytes]:
        client = AsyncClient()
        await client.aforce_login(alice)
        response = await client.get("/events/?seconds=3")
        assert response["Content-Type"] == "text/event-stream"
        chunks = aiter(response.streaming_content)
        assert await anext(chunks) == b"retry: 2000\n\n"
        waiting = asyncio.ensure_future(anext(chunks))  # the stream starts polling
        await asyncio.sleep(0.8)
        publish = sync_to_async(_publish)
        await publish(django_capture_on_commit_callbacks, bob.pk, "notification", {"unread": 9})
        await publish(django_capture_on_commit_callbacks, alice.pk, "notification", {"unread": 1})
        return [await asyncio.wait_for(waiting, 3)]

    (got,) = async_to_sync(run)()
    assert b"event: notification\n" in got
    assert b'data: {"unread":1}' in got  # alice's, not bob's


def test_sync_stream_resumes_after_the_last_event_id(
    alice, client, django_capture_on_commit_callbacks
):
    _publish(django_capture_on_commit_callbacks, alice.pk, "notification", {"unread": 1})
    first = RealtimeEvent.objects.get()
    _publish(django_capture_on_commit_callbacks, alice.pk, "notification", {"unread": 2})
    client.force_login(alice)
    response = client.get("/events/?seconds=0.6", HTTP_LAST_EVENT_ID=str(first.pk))
    body = b"".join(response.streaming_content)
    assert b'{"unread":2}' in body and b'{"unread":1}' not in body


def test_the_stream_needs_a_login(client):
    response = client.get("/events/")
    assert response.status_code == 302


def test_prune_keeps_recent_events(alice, django_capture_on_commit_callbacks):
    _publish(django_capture_on_commit_callbacks, alice.pk, "x", {})
    assert realtime.prune() == 0
    assert RealtimeEvent.objects.count() == 1
