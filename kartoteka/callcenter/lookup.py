"""Who is calling: a number in whatever format the PBX sends, matched to clients by E.164."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from kartoteka.clients.models import Client
from kartoteka.clients.queries import visible_clients
from kartoteka.clients.validators import normalize_phone
from kartoteka.core.permissions import AnyUser

MAX_MATCHES = 10


@dataclass(frozen=True)
class Match:
    id: int
    name: str


@functools.lru_cache(maxsize=4096)  # a PBX sends the same number with each of a call's events
def e164(raw: str) -> str:
    """The E.164 form of a number as the PBX gave it, or "" (an extension, "anonymous", …)."""
    text = (raw or "").strip()
    if not text or sum(c.isdigit() for c in text) < 5:
        return ""
    try:
        return normalize_phone(text[:40])
    except ValidationError:
        return ""


def client_ids(number: str, limit: int = 2) -> list[int]:
    """Live clients with this E.164 number, any owner (a call belongs to its client whoever
    looks at it); two are enough to know the match is not unique."""
    if not number:
        return []
    rows = Client.objects.filter(phones__e164=number).values_list("pk", flat=True).distinct()
    return list(rows.order_by("pk")[:limit])


def client_ids_many(numbers: Iterable[str], limit: int = 2) -> dict[str, list[int]]:
    """client_ids for many numbers in one query (the telephony sink's batches)."""
    wanted = {n for n in numbers if n}
    found: dict[str, list[int]] = {n: [] for n in wanted}
    if not wanted:
        return found
    rows = Client.objects.filter(phones__e164__in=wanted).values_list("phones__e164", "pk")
    for number, pk in rows.distinct().order_by("pk"):
        ids = found[number]
        if len(ids) < limit and pk not in ids:
            ids.append(pk)
    return found


def matches(number: str, viewer: AnyUser) -> list[Match]:
    """The clients with this number that `viewer` may see, for the screen pop."""
    if not number:
        return []
    rows = (
        visible_clients(viewer)
        .filter(phones__e164=number)
        .values_list("pk", "name")
        .distinct()
        .order_by("name", "pk")[:MAX_MATCHES]
    )
    return [Match(pk, name) for pk, name in rows]
