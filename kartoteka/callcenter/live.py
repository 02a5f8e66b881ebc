"""Supervisors' live pages (the board, the wallboard) as Server-Sent Events of rendered HTML.

A stream re-renders only when its page changed, and at most once per RENDER_SECONDS however
many events arrive (hundreds a second at peak): it reads a cheap version — a few index reads —
every CHECK_SECONDS, and renders (the page's query, scoped to the viewer) when that moved.
Nothing is written for it: the telephony events pay nothing for an open page. Every
REFRESH_SECONDS it renders anyway (limits passed, an operator added, a new day). The browser
(callcenter/live.js) ticks the timers itself, reconnects when the stream ends or drops, and
polls the page while the stream is away.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from kartoteka.callcenter import access
from kartoteka.callcenter.models import Call, OperatorStatusChange
from kartoteka.core import realtime

RENDER_SECONDS = 1.0
CHECK_SECONDS = 0.5
REFRESH_SECONDS = 15.0

Version = Callable[[], tuple[Any, ...]]


def version() -> tuple[Any, ...]:
    """Changes whenever a live page would: an operator's status (every answer, end and wrap-up
    writes one), a call arriving, a call waiting or not."""
    last = OperatorStatusChange.objects.order_by("-id").values_list("id", flat=True).first()
    newest = Call.objects.order_by("-id").values_list("id", flat=True).first()
    waiting = Call.objects.filter(status=Call.Status.QUEUED).aggregate(
        count=Count("id"), last=Max("id"), changed=Max("updated_at")
    )
    return last, waiting["count"], waiting["last"], waiting["changed"], newest


class Pacer:
    """When to render: on a change, never twice within RENDER_SECONDS, at least every
    REFRESH_SECONDS. `render` gives the page's HTML, sent as the SSE event `event`."""

    def __init__(self, event: str, render: Callable[[], str], changes: Version = version) -> None:
        self.event, self.render, self.changes = event, render, changes
        self.seen: tuple[Any, ...] | None = None
        self.rendered = -REFRESH_SECONDS

    def next(self, now: float) -> tuple[bytes | None, float]:
        """(a frame to send or None, seconds to wait before asking again)."""
        current = self.changes()
        if current == self.seen and now - self.rendered < REFRESH_SECONDS:
            _release()
            return None, CHECK_SECONDS
        html = self.render()
        _release()
        self.seen, self.rendered = current, now
        return realtime.frame(self.event, {"html": html}), RENDER_SECONDS


def _release() -> None:
    """A live page may stay open all day: hold no database connection between looks."""
    if not connection.in_atomic_block:
        connection.close()


def sync_stream(pacer: Pacer, seconds: float) -> Iterator[bytes]:
    yield b"retry: 2000\n\n"
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        yield b":\n\n"  # under WSGI, writing is how a closed page is noticed
        chunk, wait = pacer.next(time.monotonic())
        if chunk:
            yield chunk
        time.sleep(wait)


async def async_stream(pacer: Pacer, seconds: float) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    loop = asyncio.get_running_loop()
    ends = loop.time() + seconds
    beat = loop.time() + realtime.HEARTBEAT_SECONDS
    look = sync_to_async(pacer.next)
    while loop.time() < ends:
        chunk, wait = await look(loop.time())
        if chunk:
            yield chunk
            beat = loop.time() + realtime.HEARTBEAT_SECONDS
        elif loop.time() > beat:
            yield b": beat\n\n"
        await asyncio.sleep(wait)


async def respond(
    request: HttpRequest, pacer_for: Callable[[Any], Pacer]
) -> HttpResponse | StreamingHttpResponse:
    """The stream of `pacer_for(user)` to a supervisor: 401 signed out, 403 to others."""
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse(status=401)
    if not await sync_to_async(access.supervises)(user):
        return HttpResponse(status=403)
    pacer = pacer_for(user)
    seconds = realtime.stream_seconds(request)
    if isinstance(request, ASGIRequest):
        return realtime.event_stream(async_stream(pacer, seconds))
    return realtime.event_stream(sync_stream(pacer, seconds))
