"""The supervisor's board, live: a Server-Sent Events stream of the rendered board.

The stream re-renders only when the board changed, and at most once per RENDER_SECONDS
however many events arrive (hundreds a second at peak): it reads a cheap version — the last
status change's id and the waiting calls' count and latest change, two index reads — every
CHECK_SECONDS, and renders (the board query, scoped to the viewer) when that moved. Nothing
is written for it: the telephony events pay nothing for an open board. Every REFRESH_SECONDS
it renders anyway (limits passed, an operator added). The browser ticks the time-in-status
counters itself (callcenter/board.js) and reconnects when the stream ends or drops.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection
from django.db.models import Count, Max
from django.template.loader import render_to_string

from kartoteka.callcenter import queries
from kartoteka.callcenter.models import Call, OperatorStatusChange
from kartoteka.core import permissions, realtime
from kartoteka.core.permissions import Action, AnyUser

RENDER_SECONDS = 1.0
CHECK_SECONDS = 0.5
REFRESH_SECONDS = 15.0
TEMPLATE = "callcenter/_board_body.html"


def supervises(user: AnyUser) -> bool:
    """Who sees the board: whoever may see calls beyond their own (a team's, or all)."""
    return permissions.scope_of(user, "call", Action.VIEW) >= permissions.Scope.TEAM


def version() -> tuple[Any, ...]:
    """Changes whenever the board would: an operator's status, a call waiting or not."""
    last = OperatorStatusChange.objects.order_by("-id").values_list("id", flat=True).first()
    waiting = Call.objects.filter(status=Call.Status.QUEUED).aggregate(
        count=Count("id"), last=Max("id"), changed=Max("updated_at")
    )
    return last, waiting["count"], waiting["last"], waiting["changed"]


def render(user: AnyUser) -> str:
    return render_to_string(TEMPLATE, {"board": queries.board(user)})


class Pacer:
    """When to render: on a change, never twice within RENDER_SECONDS, at least every
    REFRESH_SECONDS."""

    def __init__(self) -> None:
        self.seen: tuple[Any, ...] | None = None
        self.rendered = -REFRESH_SECONDS

    def next(self, user: AnyUser, now: float) -> tuple[bytes | None, float]:
        """(a frame to send or None, seconds to wait before asking again)."""
        current = version()
        if current == self.seen and now - self.rendered < REFRESH_SECONDS:
            _release()
            return None, CHECK_SECONDS
        html = render(user)
        _release()
        self.seen, self.rendered = current, now
        return realtime.frame("board", {"html": html}), RENDER_SECONDS


def _release() -> None:
    """A board may stay open all day: hold no database connection between looks."""
    if not connection.in_atomic_block:
        connection.close()


def sync_stream(user: AnyUser, seconds: float) -> Iterator[bytes]:
    yield b"retry: 2000\n\n"
    pacer = Pacer()
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        yield b":\n\n"  # under WSGI, writing is how a closed page is noticed
        chunk, wait = pacer.next(user, time.monotonic())
        if chunk:
            yield chunk
        time.sleep(wait)


async def async_stream(user: AnyUser, seconds: float) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    pacer = Pacer()
    loop = asyncio.get_running_loop()
    ends = loop.time() + seconds
    beat = loop.time() + realtime.HEARTBEAT_SECONDS
    look = sync_to_async(pacer.next)
    while loop.time() < ends:
        chunk, wait = await look(user, loop.time())
        if chunk:
            yield chunk
        elif loop.time() > beat:
            yield b": beat\n\n"
        if chunk:
            beat = loop.time() + realtime.HEARTBEAT_SECONDS
        await asyncio.sleep(wait)
