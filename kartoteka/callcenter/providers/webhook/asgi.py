"""The webhook's fast door under ASGI: POST /telephony/webhook/ is answered here, before
Django's middleware.

Why: Django runs a sync view and the sync middleware around it in ONE thread per process
(asgiref's thread-sensitive executor), so every request of a worker waited for the one before
it, including that one's commit. The PBX's events need none of that middleware (no session,
no CSRF, no login, no page), so they are verified and applied here in a small pool of threads
of their own: events of different calls run side by side, each thread borrowing a database
connection (from the psycopg pool when DATABASE_POOL_SIZE is set) and giving it back.
Everything else, and the same URL by WSGI or with another method, goes to Django.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connections
from django.urls import reverse
from django.utils.datastructures import CaseInsensitiveMapping

from kartoteka.callcenter.providers.webhook.views import (
    MAX_BODY,
    NOT_CONFIGURED,
    TOO_LARGE,
    accept,
    check_length,
    configured,
)
from kartoteka.env import env_int

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
App = Callable[[Any, Any, Any], Awaitable[None]]

log = logging.getLogger(__name__)
THREADS = env_int("TELEPHONY_WEBHOOK_THREADS", 8, minimum=1)
_executor = ThreadPoolExecutor(THREADS, thread_name_prefix="webhook")


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
    run = sync_to_async(_apply, thread_sensitive=False, executor=_executor)
    try:
        status, answer = await run(provider, headers, body)
    except Exception:  # the PBX retries a 500; the ledger makes the retry safe
        log.exception("telephony webhook failed")
        status, answer = 500, {"detail": "The events could not be applied; send them again."}
    await _answer(send, status, answer)


def _apply(provider: Any, headers: CaseInsensitiveMapping[str], body: bytes) -> tuple[int, Any]:
    try:
        return accept(provider, headers, body)
    finally:
        _keep_connection()


def _keep_connection() -> None:
    """Each of the THREADS threads keeps its database connection from one request to the
    next, whatever CONN_MAX_AGE says: opening one per event cost more than the event, and
    the pool of threads bounds how many there are. A broken or misused one is closed."""
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
