"""Sales reports: the forecast, outcomes (win rate, average deal, cycle), the funnel, loss
reasons, and all of it per manager (plan vs fact is in `plans`, on these filters).

Every report starts from `queries.visible_deals(user)`, so it counts only the deals the viewer may
see, and is a few grouped aggregate queries: their number does not depend on the number of deals.
Money is summed per currency (roubles are never added to dollars): `{"RUB": Decimal, …}`.

Months are `datetime.date`s on the first day; a period is `from`..`to`, both months included.
Closing times are grouped by month in the current time zone (TruncMonth, on SQLite as on
PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth

from kartoteka.accounts.models import User
from kartoteka.core.permissions import AnyUser
from kartoteka.sales.models import Deal, LossReason, Pipeline, Stage
from kartoteka.sales.report_filters import (  # noqa: F401 - the reports' public names
    MAX_MONTHS,
    MONTH_RE,
    Filters,
    add_months,
    build_filters,
    choosable_owners,
    choosable_teams,
    closed,
    in_kind,
    months_between,
    parse_month,
    scoped,
    stage_ids,
    team_members,
)

Money = dict[str, Decimal]
CENT = Decimal("0.01")


def _weighted(filters: Filters) -> Sum:
    """Σ amount × the stage's probability (divide by 100 after), the probability by stage id."""
    stages = Stage.objects.filter(kind=Stage.Kind.OPEN, probability__gt=0)
    if filters.pipeline is not None:
        stages = stages.filter(pipeline=filters.pipeline)
    chances = [
        When(stage_id=pk, then=Value(p)) for pk, p in stages.values_list("pk", "probability")
    ]
    probability = Case(*chances, default=Value(0), output_field=IntegerField())
    return Sum(
        F("amount") * probability, output_field=DecimalField(max_digits=24, decimal_places=2)
    )


def _percent(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value) / 100


def add_money(money: Money, currency: str, amount: Decimal | None) -> None:
    if amount is not None:
        money[currency] = (money.get(currency, Decimal(0)) + Decimal(amount)).quantize(CENT)


# --- the forecast -----------------------------------------------------------------------------


@dataclass
class ForecastRow:
    month: dt.date | None  # None: open deals without an expected close date
    weighted: Money = field(default_factory=dict)
    total: Money = field(default_factory=dict)
    deals: int = 0


def forecast(user: AnyUser, filters: Filters) -> list[ForecastRow]:
    """The weighted pipeline: open deals by the month they are expected to close, within the
    period, then a last row (month None) for the open deals without an expected close date.

    Weighted = Σ amount × the stage's probability / 100; total = Σ amount; deals = their count.
    """
    open_deals = scoped(user, filters).filter(in_kind(filters, Stage.Kind.OPEN))
    in_period = Q(expected_close__gte=filters.start, expected_close__lt=add_months(filters.end, 1))
    grouped = (
        open_deals.filter(in_period | Q(expected_close__isnull=True))
        .annotate(month=TruncMonth("expected_close"))
        .values("month", "currency")
        .annotate(n=Count("id"), total=Sum("amount"), weighted=_weighted(filters))
        .order_by()
    )
    rows: dict[dt.date | None, ForecastRow] = {m: ForecastRow(m) for m in filters.months}
    rows[None] = ForecastRow(None)
    for row in grouped:
        line = rows.setdefault(row["month"], ForecastRow(row["month"]))
        line.deals += row["n"]
        add_money(line.total, row["currency"], row["total"])
        add_money(line.weighted, row["currency"], _percent(row["weighted"]))
    return list(rows.values())


# --- outcomes: win rate, average deal, cycle ---------------------------------------------------


@dataclass
class Outcomes:
    won: int = 0
    lost: int = 0
    won_amount: Money = field(default_factory=dict)
    won_with_amount: dict[str, int] = field(default_factory=dict)
    cycle_total: Decimal = Decimal(0)  # days, summed over the won deals
    weighted: Money = field(default_factory=dict)  # the open pipeline (per manager table)
    open_deals: int = 0

    @property
    def win_rate(self) -> int | None:
        """Won / (won + lost) among the deals closed in the period, in per cent."""
        closed = self.won + self.lost
        return round(self.won * 100 / closed) if closed else None

    @property
    def average_deal(self) -> Money:
        return {
            c: (total / self.won_with_amount[c]).quantize(CENT)
            for c, total in self.won_amount.items()
            if self.won_with_amount.get(c)
        }

    @property
    def cycle_days(self) -> Decimal | None:
        """The average of closed_at − created_at over the won deals, in days."""
        if not self.won:
            return None
        days = self.cycle_total / self.won
        return days.quantize(Decimal("0.1"))


class DaysBetween(Func):
    """`end − start` in days. On SQLite, Django subtracts datetimes with a Python function called
    per row (2.8 s over 300,000 deals); julianday() is native. PostgreSQL: the epoch difference."""

    arity = 2
    output_field = FloatField()
    arg_joiner = " - "
    template = "EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        extra.update(template="(julianday(%(expressions)s))", arg_joiner=") - julianday(")
        return self.as_sql(compiler, connection, **extra)


def _cycle() -> Sum:
    return Sum(DaysBetween(F("closed_at"), F("created_at")))


def _outcomes_by_owner(user: AnyUser, filters: Filters) -> dict[int | None, Outcomes]:
    lost = set(stage_ids(filters, Stage.Kind.LOST))
    grouped = (
        closed(user, filters)
        .filter(in_kind(filters, Stage.Kind.WON, Stage.Kind.LOST))
        .values("owner", "stage", "currency")
        .annotate(n=Count("id"), priced=Count("amount"), total=Sum("amount"), cycle=_cycle())
        .order_by()
    )
    result: dict[int | None, Outcomes] = defaultdict(Outcomes)
    for row in grouped:
        line = result[row["owner"]]
        if row["stage"] in lost:
            line.lost += row["n"]
            continue
        line.won += row["n"]
        add_money(line.won_amount, row["currency"], row["total"])
        line.won_with_amount[row["currency"]] = (
            line.won_with_amount.get(row["currency"], 0) + row["priced"]
        )
        if row["cycle"] is not None:
            line.cycle_total += Decimal(str(row["cycle"]))
    return result


def _merge(into: Outcomes, part: Outcomes) -> None:
    into.won += part.won
    into.lost += part.lost
    into.cycle_total += part.cycle_total
    into.open_deals += part.open_deals
    for currency, amount in part.won_amount.items():
        add_money(into.won_amount, currency, amount)
        into.won_with_amount[currency] = into.won_with_amount.get(
            currency, 0
        ) + part.won_with_amount.get(currency, 0)
    for currency, amount in part.weighted.items():
        add_money(into.weighted, currency, amount)


def outcomes(user: AnyUser, filters: Filters) -> Outcomes:
    """Win rate, average won deal per currency and average cycle over the period."""
    total = Outcomes()
    for part in _outcomes_by_owner(user, filters).values():
        _merge(total, part)
    return total


@dataclass
class ManagerRow:
    owner: User | None
    figures: Outcomes


def per_manager(user: AnyUser, filters: Filters) -> list[ManagerRow]:
    """Outcomes of the period and the open weighted pipeline (any close date), per owner."""
    by_owner = _outcomes_by_owner(user, filters)
    pipeline = (
        scoped(user, filters)
        .filter(in_kind(filters, Stage.Kind.OPEN))
        .values("owner", "currency")
        .annotate(n=Count("id"), weighted=_weighted(filters))
        .order_by()
    )
    for row in pipeline:
        line = by_owner[row["owner"]]
        line.open_deals += row["n"]
        add_money(line.weighted, row["currency"], _percent(row["weighted"]))
    people = User.objects.in_bulk([pk for pk in by_owner if pk is not None])
    rows = [ManagerRow(people.get(pk) if pk else None, figures) for pk, figures in by_owner.items()]
    return sorted(rows, key=lambda r: (r.owner is None, str(r.owner or "")))


# --- the funnel -------------------------------------------------------------------------------


@dataclass
class FunnelRow:
    stage: Stage
    reached: int
    conversion: int | None  # per cent of the previous open/won stage's deals; None for the first


def funnel(user: AnyUser, filters: Filters, pipeline: Pipeline) -> list[FunnelRow]:
    """Per stage of `pipeline` in order: how many of the deals created in the period reached it.

    A deal *reached* an open or won stage k if its history (StageChange rows) has a move into k
    or into any open or won stage after k; so a deal created straight at a later stage, or moved
    backwards, counts for every earlier stage, and the numbers never grow down the funnel. A lost
    stage's row counts the deals of the period that are now in it. Conversion is a stage's count
    over that of the open or won stage before it.

    The furthest open or won stage a deal ever held is its current stage, unless it left that
    stage for an earlier one or for a lost stage: then it is the stage of such a move's
    `from_stage`. So instead of every deal's whole history (3M rows at 1M deals) only those moves
    are read. Three queries: the stages, the deals per current stage, and the backward or losing
    moves grouped by (the furthest stage they show, the deal's current stage).
    """
    stages = list(pipeline.stages.order_by("position", "id"))
    forward = [s for s in stages if s.kind != Stage.Kind.LOST]
    rank = {s.pk: i for i, s in enumerate(forward)}
    lost = [s.pk for s in stages if s.kind == Stage.Kind.LOST]
    start, after = filters.moments()
    deals = scoped(user, filters).filter(
        pipeline=pipeline, created_at__gte=start, created_at__lt=after
    )
    now_at = dict(deals.values("stage").annotate(n=Count("id")).values_list("stage", "n"))
    furthest: dict[int, int] = defaultdict(int)
    for pk, count in now_at.items():
        if pk in rank:
            furthest[rank[pk]] += count
    for top, now, count in _backward(deals, rank, lost):
        if now >= 0:  # counted at its current stage above: move it to the furthest one
            furthest[now] -= count
        furthest[max(top, now)] += count
    result = []
    previous: int | None = None
    for stage in stages:
        if stage.kind == Stage.Kind.LOST:
            result.append(FunnelRow(stage, now_at.get(stage.pk, 0), None))
            continue
        reached = sum(n for top, n in furthest.items() if top >= rank[stage.pk])
        conversion = None
        if previous is not None:
            conversion = round(reached * 100 / previous) if previous else 0
        result.append(FunnelRow(stage, reached, conversion))
        previous = reached
    return result


def _backward(
    deals: QuerySet[Deal], rank: dict[int, int], lost: list[int]
) -> list[tuple[int, int, int]]:
    """(furthest rank left backwards or for a loss, current rank or -1, number of deals)."""
    if not rank:
        return []
    moves = "stage_changes__"
    leaving = Q(**{f"{moves}from_stage_id__in": list(rank), f"{moves}to_stage_id__in": lost})
    for pk, i in rank.items():
        earlier = [other for other, j in rank.items() if j < i]
        if earlier:
            leaving |= Q(**{f"{moves}from_stage_id": pk, f"{moves}to_stage_id__in": earlier})
    whens = [When(**{f"{moves}from_stage_id": pk, "then": Value(i)}) for pk, i in rank.items()]
    furthest = Case(*whens, default=Value(-1), output_field=IntegerField())
    # One join, deals with their backward or losing moves, grouped per deal.
    per_deal = deals.filter(leaving).values("pk", "stage").annotate(top=Max(furthest)).order_by()
    try:
        inner, params = per_deal.query.sql_with_params()
    except EmptyResultSet:  # a pipeline with one open stage and no lost one
        return []
    # An aggregate over an aggregate, which the ORM cannot say: the compiled query is wrapped.
    sql = f"SELECT top, stage, COUNT(*) FROM ({inner}) per_deal GROUP BY top, stage"  # noqa: S608  # nosec B608 - compiled by the ORM
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(a), rank.get(b, -1), int(c)) for a, b, c in cursor.fetchall()]


# --- loss reasons -----------------------------------------------------------------------------


@dataclass
class LossRow:
    reason: LossReason | None
    deals: int = 0
    amount: Money = field(default_factory=dict)


def losses(user: AnyUser, filters: Filters) -> list[LossRow]:
    """Lost deals closed in the period, per loss reason: count and amount per currency."""
    grouped = (
        closed(user, filters)
        .filter(in_kind(filters, Stage.Kind.LOST))
        .values("loss_reason", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    )
    rows: dict[int | None, LossRow] = {}
    for row in grouped:
        line = rows.setdefault(row["loss_reason"], LossRow(None))
        line.deals += row["n"]
        add_money(line.amount, row["currency"], row["total"])
    reasons = LossReason.objects.in_bulk([pk for pk in rows if pk is not None])
    for pk, line in rows.items():
        line.reason = reasons.get(pk) if pk else None
    return sorted(rows.values(), key=lambda r: (-r.deals, str(r.reason or "")))
