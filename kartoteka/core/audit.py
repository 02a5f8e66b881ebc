"""The audit log: who did what, append-only, each entry chained to the previous by its hash.

`record()` is called by services and views; `verify()` walks the chain and names the first
entry whose hash does not match. Request details (the IP) come from a context variable that
AuditMiddleware sets, so services need not pass the request along.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import ipaddress
import json
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from kartoteka.core.models import AuditEntry

GENESIS = "0" * 64
_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_ip", default=None)
_LOCK_KEY = 0x6B617274  # "kart": one advisory lock serialises appends on PostgreSQL


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    body = {
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "target_kind": entry.target_kind,
        "target_id": entry.target_id,
        "details": entry.details,
        "ip": entry.ip,
    }
    payload = prev_hash + json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _canonical_ip(ip: str | None) -> str | None:
    """The address as the database stores it (IPv6 compressed), so the hash still matches."""
    try:
        return str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        return None


def record(
    actor: Any,
    action: str,
    target: Any = None,
    *,
    kind: str = "",
    target_id: object = "",
    **details: Any,
) -> AuditEntry:
    """Append an entry. `target` is a model instance (its kind and id are taken from it)."""
    if target is not None:
        kind = kind or target._meta.model_name
        target_id = target.pk
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    entry = AuditEntry(
        at=timezone.now(),
        action=action,
        target_kind=kind,
        target_id=str(target_id or ""),
        actor_id=actor.pk if authenticated else None,
        actor_name=actor.get_username()
        if authenticated
        else str(details.pop("username", ""))[:150],
        details=json.loads(json.dumps(details, default=str)),
        ip=_canonical_ip(_ip.get()),
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        entry.prev_hash = last or GENESIS
        entry.hash = _digest(entry.prev_hash, entry)
        entry.save()
    return entry


def verify(batch: int = 5000) -> AuditEntry | None:
    """The first entry whose chain or content does not check out, or None if all do."""
    prev, last_id = GENESIS, 0
    while True:
        rows = list(AuditEntry.objects.filter(pk__gt=last_id).order_by("pk")[:batch])
        if not rows:
            return None
        for entry in rows:
            if entry.prev_hash != prev or entry.hash != _digest(prev, entry):
                return entry
            prev, last_id = entry.hash, entry.pk


def count_recent(actor_id: int, action: str, since: dt.datetime) -> int:
    return AuditEntry.objects.filter(actor_id=actor_id, action=action, at__gte=since).count()


class AuditMiddleware:
    """Makes the client's address available to audit entries written during the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            _ip.reset(token)
