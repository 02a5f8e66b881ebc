"""Occupancy's times from the operators' status rows, clipped to the period and the intervals.

Per operator the database clips every row to the period and sums (one aggregate query). Per
interval, most rows lie inside one interval: the database sums those; the rest — rows crossing
an interval's or the period's edge, and open rows — are split here. There are few of them: at
every edge each operator is in one status, so at most operators × edges rows (plus the open
ones), however many calls the period holds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.db.models import DateTimeField, F, FloatField, Func, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least, Trunc
from django.utils import timezone

from kartoteka.callcenter.models import Operator, OperatorStatusChange
from kartoteka.callcenter.queries import visible_operators
from kartoteka.core.permissions import AnyUser

if TYPE_CHECKING:
    from kartoteka.callcenter.kpi import Params

Status = Operator.Status
BUSY = (Status.ON_CALL, Status.AFTER_CALL)
LOGGED_IN = (Status.AVAILABLE, Status.RINGING, Status.ON_CALL, Status.AFTER_CALL)
Times = dict[Any, tuple[float, float]]  # key -> (busy seconds, logged-in seconds)


class Seconds(Func):
    """later − earlier in seconds, a float, computed by the database itself: Django's own
    datetime arithmetic calls a Python function per row on SQLite (seconds at 1M rows).
    SQLite's julianday() is a double of days (~50 µs of error), so there the difference is
    rounded to the millisecond: a wait of exactly T stays exactly T."""

    output_field = FloatField()
    arity = 2
    arg_joiner = " - "
    template = "CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="ROUND((julianday(%(expressions)s)) * 86400.0, 3)",
            arg_joiner=") - julianday(",
            **extra,
        )


def seconds(value: float | None) -> float:
    """A summed Seconds (None when nothing was summed)."""
    return float(value or 0)


def bucket(at: dt.datetime, interval: str) -> dt.datetime:
    """The start of the local hour / day / week (Monday) holding `at`, as Trunc gives it."""
    zone = timezone.get_current_timezone()
    local = at.astimezone(zone)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.date()
    if interval == "week":
        day -= dt.timedelta(days=day.weekday())
    return dt.datetime.combine(day, dt.time.min, zone)


def _next(start: dt.datetime, interval: str) -> dt.datetime:
    if interval == "hour":
        return bucket(start + dt.timedelta(hours=1), "hour")
    step = dt.timedelta(days=7 if interval == "week" else 1)
    return dt.datetime.combine(start.date() + step, dt.time.min, start.tzinfo)


def trunc(name: str, interval: str) -> Trunc:
    return Trunc(
        name, interval, output_field=DateTimeField(), tzinfo=timezone.get_current_timezone()
    )


def occupancy(user: AnyUser, p: Params, now: dt.datetime | None = None) -> Times:
    """Busy and logged-in seconds per operator (group "operator") or interval ("interval")."""
    until = min(p.end, now or timezone.now())
    operators = visible_operators(user)
    if p.operator_id is not None:
        operators = operators.filter(pk=p.operator_id)
    # Rows overlapping [start, until): started inside it, or before it and ending after its
    # start (or open) — each an index range (started_at, ended_at), not the whole history.
    overlapping = Q(started_at__gte=p.start, started_at__lt=until) | Q(
        Q(ended_at__isnull=True) | Q(ended_at__gt=p.start), started_at__lt=p.start
    )
    rows = OperatorStatusChange.objects.filter(
        overlapping, operator__in=operators.values("pk"), status__in=LOGGED_IN
    )
    busy: dict[Any, float] = defaultdict(float)
    logged: dict[Any, float] = defaultdict(float)
    if p.group != "interval":
        # Per operator: each row clipped to the period by the database, one query.
        clipped = Seconds(
            Least(Coalesce(F("ended_at"), _at(until)), _at(until)),
            Greatest(F("started_at"), _at(p.start)),
        )
        for item in _sums(rows.annotate(k=F("operator_id")), clipped):
            busy[item["k"]], logged[item["k"]] = seconds(item["busy"]), seconds(item["logged"])
        return {key: (busy[key], logged[key]) for key in logged}
    rows = rows.annotate(k=trunc("started_at", p.interval), k_end=trunc("ended_at", p.interval))
    inside = Q(ended_at__isnull=False, started_at__gte=p.start, ended_at__lte=until, k=F("k_end"))
    edge = Q(ended_at__isnull=True) | Q(started_at__lt=p.start) | Q(ended_at__gt=until)
    edge |= Q(ended_at__isnull=False) & ~Q(k=F("k_end"))
    for item in _sums(rows.filter(inside), Seconds(F("ended_at"), F("started_at"))):
        busy[item["k"]] += seconds(item["busy"])
        logged[item["k"]] += seconds(item["logged"])
    crossing = rows.filter(edge).values_list("status", "started_at", "ended_at")
    for status, started, ended in crossing.iterator(chunk_size=2000):
        begin, stop = max(started, p.start), min(ended or until, until)
        for key, part in _split(begin, stop, p.interval):
            logged[key] += part
            if status in BUSY:
                busy[key] += part
    return {key: (busy[key], logged[key]) for key in logged}


def _at(moment: dt.datetime) -> Value:
    return Value(moment, output_field=DateTimeField())


def _sums(rows: QuerySet[Any, Any], span: Seconds) -> Any:
    return (
        rows.values("k")
        .annotate(busy=Sum(span, filter=Q(status__in=BUSY)), logged=Sum(span))
        .order_by()
    )


def _split(begin: dt.datetime, stop: dt.datetime, interval: str) -> list[tuple[Any, float]]:
    """The row's seconds in [begin, stop) per interval it crosses."""
    parts: list[tuple[Any, float]] = []
    start = bucket(begin, interval)
    while start < stop:
        after = _next(start, interval)
        part = (min(after, stop) - max(start, begin)).total_seconds()
        if part > 0:
            parts.append((start, part))
        start = after
    return parts
