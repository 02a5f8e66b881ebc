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

from django.core.exceptions import FieldDoesNotExist, ValidationError
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


def _after(key: str, value: Any, desc: bool, nullable: bool) -> Q:
    if value is None:
        return Q(pk__in=[])
    later = Q(**{f"{key}__{'lt' if desc else 'gt'}": value})
    # NULLs sort last; on a NOT NULL column the extra branch would stop the index range scan.
    return later | Q(**{f"{key}__isnull": True}) if nullable else later


def _equal(key: str, value: Any) -> Q:
    return Q(**{f"{key}__isnull": True}) if value is None else Q(**{key: value})


def _nullable(queryset: QuerySet[M], key: str) -> bool:
    try:
        return bool(getattr(queryset.model._meta.get_field(key), "null", True))
    except FieldDoesNotExist:
        return True  # an annotation, such as a custom field's value


def _valid_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise BadCursor(value)
    return value


def keyset_page(
    queryset: QuerySet[M], key: str, desc: bool, cursor: str | None, size: int
) -> Page[M]:
    """One page of `queryset` ordered by `key` (a field or annotation) then by id.

    A cursor that does not fit the ordering (forged or stale) raises BadCursor.
    """
    nullable = key != "id" and _nullable(queryset, key)
    by_id = F("id").desc() if desc else F("id").asc()
    if key == "id":
        order = [by_id]
    elif nullable:
        order = [F(key).desc(nulls_last=True) if desc else F(key).asc(nulls_last=True), by_id]
    else:
        order = [F(key).desc() if desc else F(key).asc(), by_id]
    queryset = queryset.order_by(*order)
    try:
        if cursor and key == "id":
            last_id = _valid_id(decode_cursor(cursor, 1)[0])
            queryset = queryset.filter(id__lt=last_id) if desc else queryset.filter(id__gt=last_id)
        elif cursor:
            value, raw_id = decode_cursor(cursor, 2)
            last_id = _valid_id(raw_id)
            id_after = Q(id__lt=last_id) if desc else Q(id__gt=last_id)
            after = _after(key, value, desc, nullable)
            queryset = queryset.filter(after | (_equal(key, value) & id_after))
        rows = list(queryset[: size + 1])
    except (ValueError, TypeError, ValidationError) as exc:
        raise BadCursor(cursor) from exc
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        values = [last.pk] if key == "id" else [getattr(last, key), last.pk]
        next_cursor = encode_cursor(values)
    return Page(rows=rows, next_cursor=next_cursor)
