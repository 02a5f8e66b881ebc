"""Live events for a user's open pages: `publish()` after commit, an SSE stream to read them.

    publish(user.pk, "notification", {"unread": 3, "text": "…"})

Delivery crosses processes (the worker publishes, a web process streams):

- with REDIS_URL: Redis pub/sub, one channel per user (`kartoteka:events:<id>`); instant.
- without: rows of core.RealtimeEvent that each open stream polls every POLL_SECONDS by
  (user_id, id) — an index range read; `prune()` (a periodic job) deletes old rows.

The stream (`/events/`) is an async view under ASGI (uvicorn) and a plain generator under
WSGI (tests, runserver). A stream ends after STREAM_SECONDS; the browser's EventSource
reconnects and, with the database backend, resumes after the Last-Event-ID it saw.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from kartoteka.core.bulk import table, write_rows
from kartoteka.core.models import RealtimeEvent

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
STREAM_SECONDS = 55
HEARTBEAT_SECONDS = 15
KEEP = dt.timedelta(hours=1)
CHANNEL = "kartoteka:events:{}"

Item = tuple[int, str, dict[str, Any]]


# --- publishing -------------------------------------------------------------------------------


def publish(user_id: int, event: str, data: dict[str, Any]) -> None:
    """Send `event` to `user_id`'s open pages once the current transaction commits."""
    publish_many([(user_id, event, data)])


def publish_many(items: Iterable[Item]) -> None:
    batch = list(items)
    if batch:
        transaction.on_commit(lambda: _send(batch))


_clients: dict[str, Any] = {}
_local = threading.local()


@contextmanager
def gathered() -> Iterator[None]:
    """What commits inside the block is sent once, when the block ends: a group commit of
    many events pushes all their live events in one round trip, not one per event."""
    if getattr(_local, "outbox", None) is not None:  # nested: the outer block sends
        yield
        return
    _local.outbox = []
    try:
        yield
    finally:
        items, _local.outbox = _local.outbox, None
        if items:
            _send(items)


def _redis(url: str) -> Any:
    """One client (and its connection pool) per process: a new client per publish would open
    a new TCP connection every time, a few milliseconds of every webhook event."""
    client = _clients.get(url)
    if client is None:
        import redis

        client = _clients[url] = redis.Redis.from_url(url)
    return client


def _send(batch: list[Item]) -> None:
    outbox = getattr(_local, "outbox", None)
    if outbox is not None:
        outbox.extend(batch)
        return
    if settings.REDIS_URL:
        client = _redis(settings.REDIS_URL)
        with client.pipeline(transaction=False) as pipe:
            for user_id, event, data in batch:
                pipe.publish(CHANNEL.format(user_id), json.dumps({"event": event, "data": data}))
            pipe.execute()
        return
    now = timezone.now()
    with transaction.atomic():  # one transaction, not one per row on SQLite
        write_rows(
            table(RealtimeEvent),
            ["user_id", "event", "data", "created_at"],
            [(user_id, event, json.dumps(data), now) for user_id, event, data in batch],
        )


def prune(now: dt.datetime | None = None) -> int:
    """Delete database events older than an hour (no stream waits that long)."""
    cutoff = (now or timezone.now()) - KEEP
    return RealtimeEvent.objects.filter(created_at__lt=cutoff).delete()[0]


# --- reading ----------------------------------------------------------------------------------


def frame(event: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _start(user_id: int, last_event_id: str | None) -> int:
    if last_event_id and last_event_id.isdigit() and len(last_event_id) < 19:
        return int(last_event_id)
    last = RealtimeEvent.objects.filter(user_id=user_id).order_by("-id").values("id").first()
    return last["id"] if last else 0


def _poll(user_id: int, after: int) -> list[tuple[int, str, dict[str, Any]]]:
    rows = list(
        RealtimeEvent.objects.filter(user_id=user_id, id__gt=after)
        .order_by("id")
        .values_list("id", "event", "data")[:100]
    )
    _release()
    return rows


def _release() -> None:
    """A stream may wait for minutes: hold no database connection between polls."""
    if not connection.in_atomic_block:
        connection.close()


def _poll_start(user_id: int, last_event_id: str | None) -> int:
    start = _start(user_id, last_event_id)
    _release()
    return start


def sync_stream(user_id: int, last_event_id: str | None, seconds: float) -> Iterator[bytes]:
    yield b"retry: 2000\n\n"
    if settings.REDIS_URL:
        yield from _redis_sync(user_id, seconds)
        return
    after = _poll_start(user_id, last_event_id)
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        # A comment line first: under WSGI writing is the only way to learn that the page has
        # gone, and the stream should stop before it reads the database again.
        yield b":\n\n"
        try:
            rows = _poll(user_id, after)
        except Exception:  # the database went away: end; the browser reconnects later
            log.info("event stream of user %s ended by a database error", user_id, exc_info=True)
            return
        for event_id, event, data in rows:
            after = event_id
            yield frame(event, data, event_id)
        time.sleep(POLL_SECONDS)


async def async_stream(
    user_id: int, last_event_id: str | None, seconds: float
) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    if settings.REDIS_URL:
        async for chunk in _redis_async(user_id, seconds):
            yield chunk
        return
    after = await sync_to_async(_poll_start)(user_id, last_event_id)
    loop = asyncio.get_running_loop()
    ends = loop.time() + seconds
    beat = loop.time() + HEARTBEAT_SECONDS
    while loop.time() < ends:
        for event_id, event, data in await sync_to_async(_poll)(user_id, after):
            after = event_id
            yield frame(event, data, event_id)
        if loop.time() > beat:
            beat = loop.time() + HEARTBEAT_SECONDS
            yield b": beat\n\n"
        await asyncio.sleep(POLL_SECONDS)


def _redis_sync(user_id: int, seconds: float) -> Iterator[bytes]:
    import redis

    pubsub = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL.format(user_id))
    ends = time.monotonic() + seconds
    try:
        while time.monotonic() < ends:
            message = pubsub.get_message(timeout=1.0)
            if message is not None:
                body = json.loads(message["data"])
                yield frame(body["event"], body["data"])
    finally:
        pubsub.close()


async def _redis_async(user_id: int, seconds: float) -> AsyncIterator[bytes]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(CHANNEL.format(user_id))
    loop = asyncio.get_running_loop()
    ends = loop.time() + seconds
    try:
        while loop.time() < ends:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None:
                body = json.loads(message["data"])
                yield frame(body["event"], body["data"])
    finally:
        await pubsub.aclose()
        await client.aclose()


@require_GET
async def stream_view(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The signed-in user's events as Server-Sent Events."""
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse(status=401)
    last = request.headers.get("Last-Event-ID")
    seconds = stream_seconds(request)
    body: Any
    if isinstance(request, ASGIRequest):
        body = async_stream(user.pk, last, seconds)
    else:
        body = sync_stream(user.pk, last, seconds)
    return event_stream(body)


def stream_seconds(request: HttpRequest) -> float:
    """How long a stream stays open (tests may shorten it) before the browser reconnects."""
    if settings.TESTING and "seconds" in request.GET:
        return float(request.GET["seconds"])
    return STREAM_SECONDS


def event_stream(body: Iterator[bytes] | AsyncIterator[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
