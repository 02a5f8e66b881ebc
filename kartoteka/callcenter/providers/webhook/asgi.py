"""The webhook's fast door under ASGI: POST /telephony/webhook/ is answered here, before
Django's middleware, and its events are applied by one writer thread per process in groups.

Why a door: Django runs a sync view and the sync middleware around it in ONE thread per
process (asgiref's thread-sensitive executor), so every request of a worker waited for the one
before it, including that one's commit. The PBX's events need none of that middleware (no
session, no CSRF, no login, no page): they are verified and parsed here, on the event loop.

Why one writer (group commit): the cost of an event was its transaction — its ledger row, its
locks, BEGIN and COMMIT — more than its work. The writer takes every request waiting when it
is free (up to batch.MAX_EVENTS events) and applies them in one transaction
(callcenter.batch); a request is answered 200 only after that transaction committed, so an
answered event is never lost, and 500 if its events could not be applied (the PBX sends them
again; the ledger makes that safe). Unloaded, a batch is one request: no added wait.

Why prepared statements (PostgreSQL): the writer repeats the same dozen statements all day,
and planning each anew cost more than running it (0.5-1 ms a statement on the bench's
machine; 0.1-0.3 ms prepared). Its own connection binds parameters on the server and prepares
a statement from its second use. Django leaves that off for connection poolers that cannot
keep prepared statements (PgBouncer before 1.21 in transaction mode): behind one of those, set
TELEPHONY_WEBHOOK_PREPARED=0.
Everything else, and the same URL by WSGI or with another method, goes to Django.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import queue
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any

from django.db import connection, connections
from django.urls import reverse
from django.utils.datastructures import CaseInsensitiveMapping

from kartoteka.callcenter import batch
from kartoteka.callcenter.providers.base import CallEventKind, Event
from kartoteka.callcenter.providers.webhook.provider import Rejected
from kartoteka.callcenter.providers.webhook.views import (
    FAILED,
    MAX_BODY,
    NOT_CONFIGURED,
    TOO_LARGE,
    check_length,
    configured,
    verified,
)
from kartoteka.env import env_bool, env_int

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
App = Callable[[Any, Any, Any], Awaitable[None]]
Job = tuple[list[Event], "Future[list[batch.Outcome]]"]

log = logging.getLogger(__name__)


class Writer:
    """Threads applying the door's events, each taking as many per transaction as are
    waiting; more than one overlaps one batch's round trips to the database with another's."""

    def __init__(self, threads: int) -> None:
        # Requests that ring go first: their screen pops wait for their batch to commit, and
        # under load must not queue behind the answered and ended events (priority, then order).
        self._jobs: queue.PriorityQueue[tuple[int, int, Job]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._threads: list[threading.Thread] = []
        self._count = threads
        self._start = threading.Lock()

    def submit(self, events: list[Event]) -> Future[list[batch.Outcome]]:
        done: Future[list[batch.Outcome]] = Future()
        rings = any(getattr(e, "kind", None) == CallEventKind.RINGING for e in events)
        self._jobs.put((0 if rings else 1, next(self._order), (events, done)))
        if len(self._threads) < self._count or not all(t.is_alive() for t in self._threads):
            self._ensure_threads()
        return done

    def _ensure_threads(self) -> None:
        with self._start:  # started on first use, never at import
            self._threads = [t for t in self._threads if t.is_alive()]
            while len(self._threads) < self._count:
                name = f"webhook-writer-{len(self._threads)}"
                thread = threading.Thread(target=self._run, name=name, daemon=True)
                thread.start()
                self._threads.append(thread)

    def _run(self) -> None:
        while True:
            jobs = self._take()
            try:
                _prepare_statements()
            except Exception:  # the database is gone: the batch fails too, and answers 500
                log.exception("telephony webhook: the writer's connection could not be set up")
            self.write(jobs)

    def _take(self) -> list[Job]:
        jobs = [self._jobs.get()[2]]
        count = len(jobs[0][0])
        while count < batch.MAX_EVENTS:
            try:
                job = self._jobs.get_nowait()[2]
            except queue.Empty:
                break
            jobs.append(job)
            count += len(job[0])
        return jobs

    @staticmethod
    def write(jobs: list[Job]) -> None:
        events = [event for mine, _done in jobs for event in mine]
        try:
            outcomes = batch.handle_batch(events)
        except Exception as exc:  # the database is gone: every request fails, the PBX retries
            log.exception("telephony webhook batch failed")
            outcomes = [exc] * len(events)
        finally:
            _keep_connection()
        at = 0
        for mine, done in jobs:
            done.set_result(outcomes[at : at + len(mine)])
            at += len(mine)


# One writer per process: a second one contends for the GIL and the operators' row locks, and
# at 200 calls/s made the pop's p95 worse (benchmarks.md, 03:36-03:43 UTC on 6 December).
writer = Writer(env_int("TELEPHONY_WEBHOOK_WRITERS", 1, minimum=1))


def route_webhook(django_app: App) -> App:
    path = reverse("telephony_webhook")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == path and scope["method"] == "POST":
            await _webhook(scope, receive, send)
        else:
            await django_app(scope, receive, send)

    return app


async def _webhook(scope: Scope, receive: Receive, send: Send) -> None:
    headers = CaseInsensitiveMapping(
        {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    )
    provider = configured()
    if provider is None:
        await _answer(send, 404, {"detail": NOT_CONFIGURED})
        return
    refused = check_length(headers.get("Content-Length", ""))
    body = None if refused else await _body(receive)
    if body is None:
        await _answer(send, *(refused or TOO_LARGE))
        return
    try:
        events = verified(provider, headers, body)
    except Rejected as exc:
        await _answer(send, exc.status, {"detail": exc.detail})
        return
    outcomes = await asyncio.wrap_future(writer.submit(events))
    if any(outcome is not None for outcome in outcomes):
        await _answer(send, 500, {"detail": FAILED})
    else:
        await _answer(send, 200, {"accepted": len(events)})


PREPARE = env_bool("TELEPHONY_WEBHOOK_PREPARED", True)


def _prepare_statements() -> None:
    """The writer's own PostgreSQL connection (re)made to prepare what it repeats."""
    if not PREPARE or connection.vendor != "postgresql":
        return
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]

    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold != 1:
        raw.cursor_factory = ServerBindingCursor
        raw.prepare_threshold = 1  # prepared on the second use


def _keep_connection() -> None:
    """The writer keeps its database connection from one batch to the next, whatever
    CONN_MAX_AGE says (one per process); a broken or misused one is closed."""
    for conn in connections.all(initialized_only=True):
        conn.close_at = None
        conn.close_if_unusable_or_obsolete()


async def _body(receive: Receive) -> bytes | None:
    """The request body, or None when it is longer than MAX_BODY."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, status: int, answer: Any) -> None:
    raw = json.dumps(answer).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})
