"""The dashboard charts, each a function (viewer, filters) -> Chart, grouped into pages.

Each reads one chart's cells (a few hundred rows at most) and shapes them; see `dashboards`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client
from kartoteka.core.permissions import AnyUser
from kartoteka.segments.dashboards import (
    Cell,
    Chart,
    Filters,
    Series,
    dashboard_tally,
    heat,
    in_period,
    month_label,
    tally,
)
from kartoteka.segments.models import Cycle

Builder = Callable[[AnyUser, Filters], Chart]
ABC, XYZ = ("A", "B", "C"), ("X", "Y", "Z", "-")
MANAGER_COLUMNS = (
    gettext_lazy("manager"), gettext_lazy("interactions"), gettext_lazy("calls"),
    gettext_lazy("revenue"), gettext_lazy("deals won"), gettext_lazy("deals lost"),
)  # fmt: skip
BOUGHT = (Cycle.FIRST_ORDER, Cycle.REPEAT, Cycle.LOYAL, Cycle.AT_RISK, Cycle.LOST, Cycle.WON_BACK)


def _month_range(month: dt.date) -> tuple[str, str]:
    last = calendar.monthrange(month.year, month.month)[1]
    return month.isoformat(), month.replace(day=last).isoformat()


def _per_month(rows: list[Any], filters: Filters, pick: int) -> dict[str, Any]:
    out: dict[str, Any] = defaultdict(int)
    for _owner, key, *values in rows:
        if in_period(key, filters):
            out[key[:7]] += values[pick]
    return out


# --- overview ------------------------------------------------------------------------------------


def leads_and_deals(user: AnyUser, filters: Filters) -> Chart:
    """New leads (clients created), deals opened, won and lost, per month."""
    leads = _per_month(tally(user, filters, "leads"), filters, 0)
    deals: dict[str, int] = defaultdict(int)
    for _owner, key, _n, _revenue, count in dashboard_tally(user, filters, "deals", "deal"):
        if in_period(key, filters):
            deals[key] += count
    months = filters.months
    keys = [f"{m:%Y-%m}" for m in months]
    rows = []
    for month, key in zip(months, keys, strict=True):
        first, last = _month_range(month)
        rows.append(
            [
                Cell(month_label(month), number=False),
                Cell(leads[key], filters.drill(created_from=first, created_to=last)),
                Cell(deals[f"{key}:created"]),
                Cell(deals[f"{key}:won"], filters.drill(won=key)),
                Cell(deals[f"{key}:lost"], filters.drill(lost=key)),
            ]
        )
    return Chart(
        "leads",
        _("New leads, closed deals and refusals"),
        "bar",
        [month_label(m) for m in months],
        [
            Series(_("new leads"), [leads[k] for k in keys]),
            Series(_("deals won"), [deals[f"{k}:won"] for k in keys]),
            Series(_("deals lost"), [deals[f"{k}:lost"] for k in keys]),
        ],
        [_("month"), _("new leads"), _("deals opened"), _("deals won"), _("deals lost")],
        rows,
    )


def _sales(user: AnyUser, filters: Filters) -> dict[str, list[Any]]:
    """month -> [buyers, revenue, purchases]"""
    out: dict[str, list[Any]] = defaultdict(lambda: [0, Decimal(0), 0])
    for _owner, key, buyers, revenue, count in tally(user, filters, "sales"):
        if in_period(key, filters):
            cell = out[key]
            cell[0] += buyers
            cell[1] += revenue
            cell[2] += count
    return out


def sales(user: AnyUser, filters: Filters) -> Chart:
    per = _sales(user, filters)
    months = filters.months
    rows = []
    for month in months:
        key = f"{month:%Y-%m}"
        buyers, revenue, count = per[key]
        rows.append(
            [
                Cell(month_label(month), number=False),
                Cell(revenue),
                Cell(count),
                Cell(buyers, filters.drill(bought=key)),
            ]
        )
    return Chart(
        "sales",
        _("Sales dynamics"),
        "bar",
        [month_label(m) for m in months],
        [Series(_("revenue"), [float(per[f"{m:%Y-%m}"][1]) for m in months])],
        [_("month"), _("revenue"), _("purchases"), _("buyers")],
        rows,
    )


def average_check(user: AnyUser, filters: Filters) -> Chart:
    per = _sales(user, filters)
    months = filters.months
    checks = []
    rows = []
    for month in months:
        key = f"{month:%Y-%m}"
        _buyers, revenue, count = per[key]
        check = (revenue / count).quantize(Decimal("0.01")) if count else Decimal(0)
        checks.append(float(check))
        rows.append(
            [
                Cell(month_label(month), number=False),
                Cell(check),
                Cell(count, filters.drill(bought=key)),
            ]
        )
    return Chart(
        "check",
        _("Average check"),
        "line",
        [month_label(m) for m in months],
        [Series(_("average check"), checks)],
        [_("month"), _("average check"), _("purchases")],
        rows,
    )


def cohorts(user: AnyUser, filters: Filters) -> Chart:
    """Buyers per first-purchase month (rows) and month since then (columns)."""
    grid: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for _owner, key, buyers, _revenue, _count in tally(user, filters, "cohort"):
        first, _sep, month = key.partition(":")
        if not in_period(first, filters):
            continue
        offset = (int(month[:4]) - int(first[:4])) * 12 + int(month[5:7]) - int(first[5:7])
        grid[first][offset] += buyers
    cohort_keys = sorted(grid)
    width = max([max(g) for g in grid.values() if g] + [0]) + 1
    rows = []
    for key in cohort_keys:
        month = dt.date(int(key[:4]), int(key[5:7]), 1)
        row = [Cell(month_label(month), number=False)]
        row += [Cell(grid[key].get(i, 0), filters.drill(cohort=key)) for i in range(width)]
        rows.append(row)
    heat(rows)
    labels = [str(i) for i in range(width)]
    series = [
        Series(
            month_label(dt.date(int(k[:4]), int(k[5:7]), 1)),
            [grid[k].get(i, 0) for i in range(width)],
        )
        for k in cohort_keys[-6:]
    ]
    return Chart(
        "cohorts",
        _("Cohorts by first-purchase month"),
        "line",
        labels,
        series,
        [_("first purchase"), *(_("month %(n)d") % {"n": i} for i in range(width))],
        rows,
        note=_("Buyers of each cohort in each month after their first purchase."),
    )


# --- classes -------------------------------------------------------------------------------------


def abc_xyz(user: AnyUser, filters: Filters) -> Chart:
    counts: dict[str, int] = defaultdict(int)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for _owner, key, n, money, _count in tally(user, filters, "abcxyz"):
        counts[key] += n
        revenue[key] += money
    rows = []
    for a in ABC:
        row = [Cell(a, number=False)]
        for x in XYZ:
            n = counts[a + x]
            row.append(Cell(n, filters.drill(abc=a, xyz="none" if x == "-" else x) if n else None))
            row.append(Cell(revenue[a + x]))
        rows.append(row)
    heat(rows, step=2)
    header = [_("ABC")]
    for x in XYZ:
        name = x if x != "-" else _("no XYZ")
        header += [_("%(x)s: clients") % {"x": name}, _("%(x)s: revenue") % {"x": name}]
    return Chart(
        "abcxyz",
        _("ABC × XYZ matrix"),
        "stacked",
        list(ABC),
        [Series(x if x != "-" else _("no XYZ"), [counts[a + x] for a in ABC]) for x in XYZ],
        header,
        rows,
        note=_("Clients and revenue per cell: ABC by value, XYZ by stability."),
    )


def rfm_map(user: AnyUser, filters: Filters) -> Chart:
    counts: dict[str, int] = defaultdict(int)
    for _owner, key, n, _money, _count in tally(user, filters, "rfm"):
        counts[key] += n
    scores = ("5", "4", "3", "2", "1")
    rows = []
    for r in scores:
        row = [Cell(r, number=False)]
        for f in reversed(scores):
            n = counts[r + f]
            row.append(Cell(n, filters.drill(rfm_r=r, rfm_f=f) if n else None))
        rows.append(row)
    heat(rows)
    return Chart(
        "rfm",
        _("RFM map: recency × frequency"),
        "stacked",
        [_("R %(n)s") % {"n": r} for r in scores],
        [Series(_("F %(n)s") % {"n": f}, [counts[r + f] for r in scores]) for f in "12345"],
        [_("recency \\ frequency"), *(f"F {f}" for f in "12345")],
        rows,
        note=_("Scores 1–5, 5 the best: the most recent and the most frequent buyers."),
    )


# --- the contact cycle ---------------------------------------------------------------------------


def cycle_stages(user: AnyUser, filters: Filters) -> Chart:
    counts: dict[str, int] = defaultdict(int)
    for _owner, key, n, _money, _count in tally(user, filters, "cycle"):
        counts[key] += n
    stages = list(Cycle)
    return Chart(
        "cycle",
        _("Clients per contact-cycle stage"),
        "bar",
        [str(s.label) for s in stages],
        [Series(_("clients"), [counts[s.value] for s in stages])],
        [_("stage"), _("clients")],
        [
            [Cell(str(s.label), number=False), Cell(counts[s.value], filters.drill(cycle=s.value))]
            for s in stages
        ],
    )


def movements(user: AnyUser, filters: Filters) -> Chart:
    """Moves between contact-cycle stages in the period (rows: from, columns: to), from the
    per-owner monthly cells the recompute job writes (`dashboard_tallies`)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for _owner, key, _n, _money, count in dashboard_tally(user, filters, "moves"):
        month, _sep, move = key.partition(":")
        old, _sep, new = move.partition(":")
        if in_period(month, filters):
            counts[(old, new)] += count
    start, after = filters.moments()
    stages = list(Cycle)
    day_from, day_to = start.date().isoformat(), (after - dt.timedelta(days=1)).date().isoformat()
    rows = []
    for old in stages:
        row = [Cell(str(old.label), number=False)]
        for new in stages:
            n = counts.get((old.value, new.value), 0)
            moved = f"{old.value}:{new.value}"
            link = filters.drill(moved=moved, moved_from=day_from, moved_to=day_to)
            row.append(Cell(n, link if n else None))
        rows.append(row)
    heat(rows)
    entered = [sum(n for (o, w), n in counts.items() if w == s.value) for s in stages]
    left = [sum(n for (o, w), n in counts.items() if o == s.value) for s in stages]
    return Chart(
        "movements",
        _("Movements between contact-cycle stages"),
        "bar",
        [str(s.label) for s in stages],
        [Series(_("entered"), entered), Series(_("left"), left)],
        [_("from \\ to"), *(str(s.label) for s in stages)],
        rows,
        note=_("Each move of a client from one stage to another in the period."),
    )


# --- conversion and managers ---------------------------------------------------------------------


def sources(user: AnyUser, filters: Filters) -> Chart:
    """Conversion by source: of the clients from each source, the share that bought."""
    total: dict[str, int] = defaultdict(int)
    bought: dict[str, int] = defaultdict(int)
    for _owner, key, n, _money, _count in dashboard_tally(user, filters, "source"):
        source, _sep, stage = key.partition(":")
        total[source] += n
        if stage in BOUGHT:
            bought[source] += n
    labels = dict(Client.Source.choices)
    keys = [s for s in (*Client.Source.values, "-") if total.get(s)]
    names = [str(labels.get(s, _("no source"))) for s in keys]
    rates = [round(bought[s] * 100 / total[s], 1) if total[s] else 0.0 for s in keys]
    rows = [
        [
            Cell(name, number=False),
            Cell(total[s], filters.drill(source=s) if s != "-" else None),
            Cell(bought[s]),
            Cell(rate),
        ]
        for s, name, rate in zip(keys, names, rates, strict=True)
    ]
    return Chart(
        "sources",
        _("Conversion by source"),
        "bar",
        names,
        [Series(_("bought, %"), rates)],
        [_("source"), _("clients"), _("bought"), _("conversion, %")],
        rows,
    )


def funnel(user: AnyUser, filters: Filters) -> Chart:
    """Conversion by deal stage: the sales report's funnel of the first active pipeline, over
    the deals created in the period (grouped queries over the viewer's deals)."""
    from kartoteka.sales import reports
    from kartoteka.sales.models import Pipeline

    pipeline = Pipeline.objects.filter(is_active=True).order_by("id").first()
    found = []
    if pipeline is not None:
        period = reports.Filters(filters.start, filters.end, owner=filters.owner)
        found = reports.funnel(user, period, pipeline)
    rows = [
        [
            Cell(str(row.stage), number=False),
            Cell(row.reached),
            Cell(row.conversion if row.conversion is not None else "—", number=False),
        ]
        for row in found
    ]
    return Chart(
        "funnel",
        _("Conversion by deal stage"),
        "bar",
        [str(row.stage) for row in found],
        [Series(_("deals"), [row.reached for row in found])],
        [_("stage"), _("deals"), _("conversion, %")],
        rows,
        note=str(pipeline) if pipeline else _("No active pipeline."),
    )


def managers(user: AnyUser, filters: Filters) -> Chart:
    """Per manager: interactions logged, revenue of their clients, deals won and lost."""
    figures: dict[int | None, list[Any]] = defaultdict(lambda: [0, 0, Decimal(0), 0, 0])
    for owner, key, _n, _money, count in tally(
        user, filters, "activity", "interaction", per_owner=True
    ):
        if in_period(key, filters):
            figures[owner][0] += count
            if key.endswith(":call"):
                figures[owner][1] += count
    for owner, key, _n, revenue, _count in tally(user, filters, "sales", per_owner=True):
        if in_period(key, filters):
            figures[owner][2] += revenue
    for owner, key, _n, _money, count in dashboard_tally(
        user, filters, "deals", "deal", per_owner=True
    ):
        if in_period(key, filters) and key.endswith((":won", ":lost")):
            figures[owner][3 if key.endswith(":won") else 4] += count
    people = User.objects.in_bulk([pk for pk in figures if pk is not None])
    order = sorted(figures, key=lambda pk: (pk is None, str(people.get(pk, "")) if pk else ""))
    rows = []
    for pk in order:
        name = str(people[pk]) if pk in people else _("nobody")
        link = filters.drill(owner=pk) if pk else filters.drill(owner="none")
        interactions, calls, revenue, won, lost = figures[pk]
        rows.append(
            [
                Cell(name, link, number=False),
                Cell(interactions),
                Cell(calls),
                Cell(revenue),
                Cell(won),
                Cell(lost),
            ]
        )
    names = [row[0].value for row in rows]
    return Chart(
        "managers",
        _("Managers: activity and results"),
        "bar",
        names,
        [
            Series(_("interactions"), [figures[pk][0] for pk in order]),
            Series(_("deals won"), [figures[pk][3] for pk in order]),
        ],
        [str(h) for h in MANAGER_COLUMNS],
        rows,
    )


PAGES: dict[str, tuple[Any, list[Builder]]] = {
    "overview": (gettext_lazy("Overview"), [leads_and_deals, sales, average_check]),
    "classes": (gettext_lazy("ABC × XYZ and RFM"), [abc_xyz, rfm_map]),
    "cycle": (gettext_lazy("Contact cycle"), [cycle_stages, movements]),
    "cohorts": (gettext_lazy("Cohorts"), [cohorts]),
    "conversion": (gettext_lazy("Conversion"), [funnel, sources]),
    "managers": (gettext_lazy("Managers"), [managers]),
}
