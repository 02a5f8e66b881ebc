"""The aggregates analytics reads: one grouped query over purchases, whatever their number.

Purchases are interactions of kind "purchase" with an amount, in the analytics currency only;
purchases in other currencies are left out of every class and counted by `excluded()` so that
the dashboard can say so. Months are calendar months in the configured time zone (PostgreSQL
converts each time with AT TIME ZONE; SQLite shifts by the zone's UTC offset at the end of the
window, which is exact for zones without summer time, such as Moscow).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection

from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client


@dataclass(frozen=True)
class Window:
    """Purchases from `start` up to, not including, `end` (local dates)."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("the window must end after it starts")

    @property
    def first_month(self) -> int:
        return month_index(self.start)

    @property
    def last_month(self) -> int:
        return month_index(self.end - dt.timedelta(days=1))

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        return (
            dt.datetime.combine(self.start, dt.time(), zone),
            dt.datetime.combine(self.end, dt.time(), zone),
        )


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_of(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Figures:
    """One client's purchases: in the window (revenue, squares of monthly revenue, count, last)
    and ever (first month, first and last time, count), all before the "as of" time."""

    client_id: int
    revenue: Decimal
    squares: float
    purchases: int
    last_at: dt.datetime | None
    first_month: int
    first_at: dt.datetime
    last_ever: dt.datetime
    purchases_ever: int


def _month(column: str) -> str:
    """A month number (year · 12 + month − 1) of `column` in the zone (two %s parameters)."""
    if connection.vendor == "postgresql":
        return (
            f"(EXTRACT(YEAR FROM {column} AT TIME ZONE %s)::int * 12"
            f" + EXTRACT(MONTH FROM {column} AT TIME ZONE %s)::int - 1)"
        )
    return (
        f"(CAST(strftime('%%Y', {column}, %s) AS INTEGER) * 12"
        f" + CAST(strftime('%%m', {column}, %s) AS INTEGER) - 1)"
    )


_FIGURES = """
SELECT client_id,
       SUM(CASE WHEN inside = 1 THEN rev ELSE 0 END),
       SUM(CASE WHEN inside = 1 THEN rev * rev ELSE 0 END),
       SUM(CASE WHEN inside = 1 THEN n ELSE 0 END),
       MAX(CASE WHEN inside = 1 THEN last_at END),
       MIN(month), MIN(first_at), MAX(last_at), SUM(n)
FROM (
    SELECT i.client_id AS client_id, {month} AS month,
           CASE WHEN i.occurred_at >= %s AND i.occurred_at < %s THEN 1 ELSE 0 END AS inside,
           SUM(i.amount) AS rev, COUNT(*) AS n,
           MIN(i.occurred_at) AS first_at, MAX(i.occurred_at) AS last_at
    FROM {interaction} i
    WHERE i.kind = 'purchase' AND i.deleted_at IS NULL AND i.amount IS NOT NULL
      AND i.currency = %s AND i.occurred_at < %s
      AND i.client_id IN (SELECT c.id FROM {client} c WHERE c.deleted_at IS NULL)
    GROUP BY 1, 2, 3
) per_month
GROUP BY client_id
"""

_EXCLUDED = """
SELECT currency, COUNT(*), SUM(amount) FROM {interaction}
WHERE kind = 'purchase' AND deleted_at IS NULL AND amount IS NOT NULL
  AND currency <> %s AND occurred_at >= %s AND occurred_at < %s
GROUP BY currency ORDER BY currency
"""


def _zone_param(window: Window) -> list[str]:
    if connection.vendor == "postgresql":
        return [settings.TIME_ZONE, settings.TIME_ZONE]
    _start, end = window.bounds()
    offset = end.utcoffset() or dt.timedelta()
    minutes = f"{int(offset.total_seconds() // 60):+d} minutes"
    return [minutes, minutes]


def _sql(template: str) -> str:
    from kartoteka.segments.models import ClientClass

    return template.format(
        month=_month("i.occurred_at"),
        first=_month("cc.first_purchase_at"),
        interaction=Interaction._meta.db_table,
        client=Client._meta.db_table,
        classes=ClientClass._meta.db_table,
    )


def _aware(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _decimal(value: object) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)).quantize(Decimal("0.01"))


def purchase_figures(currency: str, window: Window, as_of: dt.datetime) -> Iterator[Figures]:
    """Every client with a purchase before `as_of`, in one grouped query: the window's figures
    and the figures ever (for the contact cycle)."""
    start, end = window.bounds()
    adapt = connection.ops.adapt_datetimefield_value
    params = [*_zone_param(window), adapt(start), adapt(end), currency, adapt(as_of)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(_sql(_FIGURES), params)
        while rows := cursor.fetchmany(20000):
            for row in rows:
                yield Figures(
                    client_id=row[0],
                    revenue=_decimal(row[1]),
                    squares=float(row[2] or 0),
                    purchases=int(row[3] or 0),
                    last_at=_aware(row[4]),
                    first_month=int(row[5]),
                    first_at=_aware(row[6]),  # type: ignore[arg-type]
                    last_ever=_aware(row[7]),  # type: ignore[arg-type]
                    purchases_ever=int(row[8]),
                )


def excluded(currency: str, window: Window) -> dict[str, dict[str, str | int]]:
    """Purchases in the window in other currencies: {"USD": {"purchases": 3, "amount": "…"}}."""
    start, end = window.bounds()
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            _EXCLUDED.format(interaction=Interaction._meta.db_table),
            [currency, adapt(start), adapt(end)],
        )
        return {
            code: {"purchases": int(n), "amount": str(_decimal(total))}
            for code, n, total in cursor.fetchall()
        }


_COHORTS = """
SELECT c.owner_id, {first} AS cohort, {month} AS month,
       COUNT(DISTINCT i.client_id), SUM(i.amount), COUNT(*)
FROM {interaction} i
JOIN {classes} cc ON cc.client_id = i.client_id
JOIN {client} c ON c.id = i.client_id
WHERE i.kind = 'purchase' AND i.deleted_at IS NULL AND i.amount IS NOT NULL
  AND i.currency = %s AND i.occurred_at >= %s AND i.occurred_at < %s
GROUP BY 1, 2, 3
"""

_ACTIVITY = """
SELECT i.author_id, {month} AS month, i.kind, COUNT(*)
FROM {interaction} i
WHERE i.deleted_at IS NULL AND i.author_id IS NOT NULL
  AND i.occurred_at >= %s AND i.occurred_at < %s
GROUP BY 1, 2, 3
"""


def cohorts(currency: str, window: Window, as_of: dt.datetime) -> list[tuple[Any, ...]]:
    """(owner, first-purchase month, month, buyers, revenue, purchases) from the window's start
    to `as_of`; reads the first purchases from the class table, so call it after writing it."""
    start, _end = window.bounds()
    adapt = connection.ops.adapt_datetimefield_value
    zone = _zone_param(window)
    params = [*zone, *zone, currency, adapt(start), adapt(as_of)]
    with connection.cursor() as cursor:
        cursor.execute(_sql(_COHORTS), params)
        return [
            (owner, int(first), int(month), int(n), _decimal(total), int(count))
            for owner, first, month, n, total, count in cursor.fetchall()
        ]


def activity(window: Window, as_of: dt.datetime) -> list[tuple[Any, ...]]:
    """(author, month, kind, interactions) from the window's start to `as_of`."""
    start, _end = window.bounds()
    adapt = connection.ops.adapt_datetimefield_value
    params = [*_zone_param(window), adapt(start), adapt(as_of)]
    with connection.cursor() as cursor:
        cursor.execute(_sql(_ACTIVITY), params)
        return [(a, int(m), k, int(n)) for a, m, k, n in cursor.fetchall()]
