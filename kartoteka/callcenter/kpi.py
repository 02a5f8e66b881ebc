"""Contact-centre KPIs: the definitions as code, computed by aggregate queries in the database.

Which calls count
    Inbound calls (`direction = in`) that STARTED in the period [start, end) — a call belongs to
    the queue, operator and interval (hour / day / week in the current time zone) of its start.
    wait = answered_at − started_at for an answered call, ended_at − started_at for a lost one.

    answered          answered_at is set (in progress or ended).
    abandoned         never answered and ended as lost (status missed or abandoned).
    short abandon     an abandoned call whose wait < S, the short-abandon threshold: the caller
                      hung up before anyone could have answered. A wait of exactly S is a real
                      abandon. Calls still ringing or waiting are in no count.
    counted abandons  abandoned − short abandons.

Service level, with T the answer target (seconds): "answered within T" means wait ≤ T
(exactly T is within).
    variant "answered":  SL = answered within T / answered
    variant "offered":   SL = answered within T / (answered + counted abandons)
    Short abandons are in neither variant's denominator.

ASA  = Σ wait of answered calls / answered.
AHT  = (Σ talk + Σ hold + Σ ACW) / handled, over handled calls (answered and ended):
       talk + hold = ended_at − answered_at (a call on hold is still connected: hold time lies
       inside that span; the PBX does not report it separately yet), ACW = the length of the
       operator's after-call-work status rows linked to the call (an open one counts until now).
Abandonment rate = counted abandons / (answered + counted abandons) — short abandons excluded.
Occupancy = (on-call + after-call-work time) / logged-in time, from the operators' status
       rows clipped to the period and interval: logged in = available + ringing + on a call +
       after-call work; breaks and offline are not logged-in time. On-call time is talk + hold
       of inbound and outbound calls alike. Per queue it is not defined (agents are not tied
       to a queue): empty.
FCR  = resolved / identified handled calls. Identified: the call has a client or a caller
       number. Resolved: no other inbound call from the same client or the same number started
       in (started_at, started_at + 7 days] — a repeat exactly 7 days later still counts as a
       repeat (as is a second call at the very same instant). The repeat is looked up among
       all calls (whoever took it), so FCR of the last 7 days is provisional.

Times are compared to the microsecond on PostgreSQL, to the millisecond on SQLite.

All counts and sums are additive, so a total is the sum of its rows; ratios with an empty
denominator are None.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce, Lead, Now
from django.db.models.lookups import LessThan, LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.callcenter import kpi_time
from kartoteka.callcenter.kpi_time import Seconds, seconds
from kartoteka.callcenter.models import Call, Operator, OperatorStatusChange
from kartoteka.callcenter.queries import visible_calls
from kartoteka.core.permissions import AnyUser

Group = Literal["queue", "operator", "interval"]
Interval = Literal["hour", "day", "week"]
Variant = Literal["answered", "offered"]
GROUPS: tuple[Group, ...] = ("queue", "operator", "interval")
INTERVALS: tuple[Interval, ...] = ("hour", "day", "week")
VARIANTS: tuple[Variant, ...] = ("answered", "offered")
REPEAT_WINDOW = dt.timedelta(days=7)
MAX_DAYS = 366
MAX_HOURLY_DAYS = 31
MAX_ANSWER_S = 3600
MAX_SHORT_ABANDON_S = 600


@dataclass(frozen=True)
class Params:
    """What a report asks: the period [start, end), its grouping and the KPI settings."""

    start: dt.datetime
    end: dt.datetime
    group: Group = "queue"
    interval: Interval = "day"
    answer_s: int = 20  # T
    variant: Variant = "offered"
    short_abandon_s: int = 5  # S
    queue: str = ""
    operator_id: int | None = None


def params(
    start: dt.date,
    end: dt.date,
    *,
    group: str = "queue",
    interval: str = "day",
    answer_s: int = 20,
    variant: str = "offered",
    short_abandon_s: int = 5,
    queue: str = "",
    operator_id: int | None = None,
) -> Params:
    """Checked Params for the local days start..end (inclusive); ValidationError names the
    field at fault."""
    errors: dict[str, list[str]] = {}
    if end < start or (end - start).days >= MAX_DAYS:
        errors["to"] = [_("The end must be after the start, within a year.")]
    if group not in GROUPS:
        errors["group"] = [_("Group by queue, operator or interval.")]
    if interval not in INTERVALS:
        errors["interval"] = [_("Choose hour, day or week.")]
    elif interval == "hour" and (end - start).days >= MAX_HOURLY_DAYS:
        errors["interval"] = [_("Hourly figures cover at most 31 days.")]
    if not 1 <= answer_s <= MAX_ANSWER_S:
        errors["answer_s"] = [_("From 1 to 3600 seconds.")]
    if variant not in VARIANTS:
        errors["variant"] = [_("Choose answered or offered.")]
    if not 0 <= short_abandon_s <= MAX_SHORT_ABANDON_S:
        errors["short_abandon_s"] = [_("From 0 to 600 seconds.")]
    if len(queue) > 80 or "\x00" in queue:
        errors["queue"] = [_("There is no such queue.")]
    if errors:
        raise ValidationError(errors)
    zone = timezone.get_current_timezone()
    return Params(
        start=dt.datetime.combine(start, dt.time.min, zone),
        end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, zone),
        group=group,  # type: ignore[arg-type]
        interval=interval,  # type: ignore[arg-type]
        answer_s=answer_s,
        variant=variant,  # type: ignore[arg-type]
        short_abandon_s=short_abandon_s,
        queue=queue,
        operator_id=operator_id,
    )


@dataclass
class Row:
    """One queue / operator / interval: additive counts and sums, and the KPIs derived."""

    key: Any
    label: str = ""
    answered: int = 0
    answered_in_t: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    wait_s: float = 0.0  # Σ wait of answered calls
    handled: int = 0
    talk_s: float = 0.0  # Σ talk + hold of handled calls
    acw_s: float = 0.0
    busy_s: float = 0.0  # on a call + after-call work (status rows)
    logged_in_s: float = 0.0
    identified: int = 0
    resolved: int = 0
    variant: Variant = field(default="offered", repr=False)

    @property
    def counted_abandons(self) -> int:
        return self.abandoned - self.short_abandoned

    @property
    def offered(self) -> int:
        """Answered + counted abandons (short abandons excluded)."""
        return self.answered + self.counted_abandons

    @property
    def service_level(self) -> float | None:
        base = self.answered if self.variant == "answered" else self.offered
        return _ratio(self.answered_in_t, base)

    @property
    def asa_s(self) -> float | None:
        return _ratio(self.wait_s, self.answered)

    @property
    def aht_s(self) -> float | None:
        return _ratio(self.talk_s + self.acw_s, self.handled)

    @property
    def abandonment_rate(self) -> float | None:
        return _ratio(self.counted_abandons, self.offered)

    @property
    def occupancy(self) -> float | None:
        return _ratio(self.busy_s, self.logged_in_s)

    @property
    def fcr(self) -> float | None:
        return _ratio(self.resolved, self.identified)

    def add(self, other: Row) -> None:
        for name in SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> dict[str, Any]:
        """The row as the API and the CSV give it."""
        out = {name: getattr(self, name) for name in SUMMED}
        out.update({name: getattr(self, name) for name in DERIVED})
        out["offered"] = self.offered
        return out


SUMMED = tuple(f.name for f in fields(Row) if f.name not in ("key", "label", "variant"))
DERIVED = ("service_level", "asa_s", "aht_s", "abandonment_rate", "occupancy", "fcr")


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass
class Report:
    params: Params
    rows: list[Row]
    total: Row


# --- the queries ------------------------------------------------------------------------------


def _span(later: str, earlier: str) -> Seconds:
    return Seconds(F(later), F(earlier))


def _key(p: Params, prefix: str = "") -> Any:
    if p.group == "queue":
        return F(f"{prefix}queue")
    if p.group == "operator":
        return F(f"{prefix}operator_id")
    return kpi_time.trunc(f"{prefix}started_at", p.interval)


def inbound(user: AnyUser, p: Params) -> QuerySet[Call]:
    """The calls a report counts, narrowed by the permissions engine."""
    rows = visible_calls(user).filter(
        direction=Call.Direction.INBOUND, started_at__gte=p.start, started_at__lt=p.end
    )
    if p.queue:
        rows = rows.filter(queue=p.queue)
    if p.operator_id is not None:
        rows = rows.filter(operator_id=p.operator_id)
    return rows


ANSWERED = Q(answered_at__isnull=False)
HANDLED = Q(answered_at__isnull=False, ended_at__isnull=False)
ABANDONED = Q(answered_at__isnull=True, status__in=Call.LOST)


def _resolved(p: Params) -> QuerySet[Call, dict[str, Any]]:
    """Ids of the calls with no repeat: the next inbound call from the same number and from
    the same client (window functions over the period and 7 days after it, every call — who
    ever took it) is missing or more than 7 days later. One sort instead of an index probe
    per call."""
    order = [F("started_at").asc(), F("id").asc()]
    later = (
        Call.objects.filter(
            direction=Call.Direction.INBOUND,
            started_at__gte=p.start,
            started_at__lt=p.end + REPEAT_WINDOW,
        )
        .annotate(
            next_number=Window(Lead("started_at"), partition_by=[F("caller_e164")], order_by=order),
            next_client=Window(Lead("started_at"), partition_by=[F("client_id")], order_by=order),
        )
        .annotate(
            gap_number=_span("next_number", "started_at"),
            gap_client=_span("next_client", "started_at"),
        )
    )
    window = REPEAT_WINDOW.total_seconds()
    by_number = Q(caller_e164="") | Q(next_number__isnull=True) | Q(gap_number__gt=window)
    by_client = Q(client__isnull=True) | Q(next_client__isnull=True) | Q(gap_client__gt=window)
    return later.filter(by_number & by_client).values("pk")


def service_counts(p: Params, within: Q | None = None) -> dict[str, Any]:
    """The aggregates of service level, ASA and abandonment (of calls matching `within`)."""
    scope = within or Q()
    wait = _span("answered_at", "started_at")
    within_t = ANSWERED & LessThanOrEqual(wait, float(p.answer_s))
    short = ABANDONED & LessThan(_span("ended_at", "started_at"), float(p.short_abandon_s))
    return {
        "answered": Count("pk", filter=scope & ANSWERED),
        "answered_in_t": Count("pk", filter=scope & within_t),
        "abandoned": Count("pk", filter=scope & ABANDONED),
        "short_abandoned": Count("pk", filter=scope & short),
        "wait": Sum(wait, filter=scope & ANSWERED),
    }


IDENTIFIED = HANDLED & (Q(client__isnull=False) | ~Q(caller_e164=""))


def call_figures(rows: QuerySet[Call], p: Params) -> QuerySet[Call, dict[str, Any]]:
    """One aggregate query: the call counts and sums per group key."""
    return (
        rows.annotate(k=_key(p))
        .values("k")
        .annotate(
            **service_counts(p),
            handled=Count("pk", filter=HANDLED),
            talk=Sum(_span("ended_at", "answered_at"), filter=HANDLED),
            identified=Count("pk", filter=IDENTIFIED),
        )
        .order_by()
    )


def resolved_figures(rows: QuerySet[Call], p: Params) -> QuerySet[Call, dict[str, Any]]:
    """Resolved calls per group key. A query of its own: `pk IN (…)` in the WHERE clause is a
    hash semi-join; inside an aggregate's FILTER PostgreSQL re-scans the list per row once it
    outgrows work_mem."""
    return (
        rows.filter(IDENTIFIED, pk__in=_resolved(p))
        .annotate(k=_key(p))
        .values("k")
        .annotate(resolved=Count("pk"))
        .order_by()
    )


def acw_figures(rows: QuerySet[Call], p: Params) -> QuerySet[OperatorStatusChange, dict[str, Any]]:
    """Σ after-call work of the handled calls per group key (status rows joined to calls)."""
    span = Seconds(Coalesce(F("ended_at"), Now()), F("started_at"))
    return (
        OperatorStatusChange.objects.filter(
            # After-call work follows its call: an index range from the period's start.
            status=Operator.Status.AFTER_CALL,
            started_at__gte=p.start,
            call__in=rows.filter(HANDLED).values("pk"),
        )
        .annotate(k=_key(p, "call__"))
        .values("k")
        .annotate(acw=Sum(span))
        .order_by()
    )


def report(user: AnyUser, p: Params, now: dt.datetime | None = None) -> Report:
    calls = inbound(user, p)
    rows: dict[Any, Row] = {}

    def row(key: Any) -> Row:
        if key not in rows:
            rows[key] = Row(key=key, variant=p.variant)
        return rows[key]

    for item in call_figures(calls, p):
        r = fill(row(item["k"]), item)
        r.handled, r.identified = item["handled"], item["identified"]
        r.talk_s = seconds(item["talk"])
    for done in resolved_figures(calls, p):
        row(done["k"]).resolved = done["resolved"]
    for acw in acw_figures(calls, p):
        row(acw["k"]).acw_s = seconds(acw["acw"])
    if p.group != "queue":
        for key, (busy, logged_in) in kpi_time.occupancy(user, p, now).items():
            r = row(key)
            r.busy_s, r.logged_in_s = busy, logged_in
    ordered = sorted(rows.values(), key=_sort_key)
    _label(ordered, p)
    total = Row(key=None, label=_("Total"), variant=p.variant)
    for r in ordered:
        total.add(r)
    return Report(params=p, rows=ordered, total=total)


def series(user: AnyUser, p: Params) -> list[Row]:
    """Service level, ASA and abandonment per interval (the charts): one aggregate query,
    without the report's handling times, occupancy and FCR."""
    p = replace(p, group="interval")
    rows = inbound(user, p).annotate(k=_key(p)).values("k").annotate(**service_counts(p))
    out = [fill(Row(key=item["k"], variant=p.variant), item) for item in rows.order_by("k")]
    _label(out, p)
    return out


def fill(row: Row, item: dict[str, Any]) -> Row:
    """Copy service_counts' figures from an aggregate's row."""
    for name in ("answered", "answered_in_t", "abandoned", "short_abandoned"):
        setattr(row, name, item[name])
    row.wait_s = seconds(item["wait"])
    return row


def _sort_key(r: Row) -> tuple[int, Any]:
    return (r.key is None, r.key if r.key is not None else 0)


def _label(rows: list[Row], p: Params) -> None:
    if p.group == "operator":
        ids = [r.key for r in rows if r.key is not None]
        names = {
            o.pk: f"{o.extension} {o.user.get_full_name() or o.user.get_username()}"
            for o in Operator.objects.filter(pk__in=ids).select_related("user")
        }
        for r in rows:
            r.label = names.get(r.key, "") or _("no operator")
    elif p.group == "queue":
        for r in rows:
            r.label = r.key or _("no queue")
    else:
        fmt = "%Y-%m-%d %H:%M" if p.interval == "hour" else "%Y-%m-%d"
        for r in rows:
            r.label = timezone.localtime(r.key).strftime(fmt) if r.key else ""
