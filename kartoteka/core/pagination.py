"""Keyset pagination: pages that cost the same on row 50 and on row 900,000.

A page is ordered by one key and the primary key; the cursor carries the last
row's values. NULLs sort last in both directions.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.db.models import F, Model, Q, QuerySet

M = TypeVar("M", bound=Model)


class BadCursor(ValueError):
    pass


@dataclass
class Page(Generic[M]):
    rows: list[M]
    next_cursor: str | None


class _CursorEncoder(json.JSONEncoder):
    """Full precision: DjangoJSONEncoder drops microseconds, which would skip rows."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.date | dt.time):
            return o.isoformat()
        if isinstance(o, Decimal):
            return str(o)
        return super().default(o)


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, cls=_CursorEncoder, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise BadCursor(cursor) from None
    if not isinstance(values, list) or len(values) != size:
        raise BadCursor(cursor)
    if not all(v is None or isinstance(v, str | int | float) for v in values):
        raise BadCursor(cursor)
    return values


def _after(key: str, value: Any, desc: bool) -> Q:
    if value is None:
        return Q(pk__in=[])
    op = "lt" if desc else "gt"
    return Q(**{f"{key}__{op}": value}) | Q(**{f"{key}__isnull": True})


def _equal(key: str, value: Any) -> Q:
    return Q(**{f"{key}__isnull": True}) if value is None else Q(**{key: value})


def keyset_page(
    queryset: QuerySet[M], key: str, desc: bool, cursor: str | None, size: int
) -> Page[M]:
    """One page of `queryset` ordered by `key` (a field or annotation) then by id."""
    if key == "id":
        order = [F("id").desc() if desc else F("id").asc()]
    else:
        direction = F(key).desc(nulls_last=True) if desc else F(key).asc(nulls_last=True)
        order = [direction, F("id").desc() if desc else F("id").asc()]
    queryset = queryset.order_by(*order)
    if cursor:
        if key == "id":
            (last_id,) = decode_cursor(cursor, 1)
            queryset = queryset.filter(id__lt=last_id) if desc else queryset.filter(id__gt=last_id)
        else:
            value, last_id = decode_cursor(cursor, 2)
            id_after = Q(id__lt=last_id) if desc else Q(id__gt=last_id)
            queryset = queryset.filter(_after(key, value, desc) | (_equal(key, value) & id_after))
    rows = list(queryset[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        values = [last.pk] if key == "id" else [getattr(last, key), last.pk]
        next_cursor = encode_cursor(values)
    return Page(rows=rows, next_cursor=next_cursor)
