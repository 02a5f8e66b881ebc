"""What a dashboard shows: charts as plain data (labels, series, a table with drill-down links).

Every chart reads precomputed cells (`Tally`, written by the recompute; `DashboardTally`, by
`dashboard_tallies`) narrowed to the owners the viewer may see (`access.owners`), or a cheap
indexed query (contact-cycle movements over `ClassChange(measure, at)`). Nothing here scans
purchases, deals or clients on a page load. A table cell's `link` is a query string for the
client list, which applies the same permissions: a drill-down shows the clients behind a number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Model, QuerySet, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.core.forms import parse_id
from kartoteka.core.permissions import AnyUser
from kartoteka.sales.report_filters import MAX_MONTHS, add_months, months_between, parse_month
from kartoteka.segments import access
from kartoteka.segments.config import current, default_window
from kartoteka.segments.models import DashboardTally, Tally


@dataclass
class Cell:
    value: Any
    link: str | None = None  # the client list's query string, for a drill-down
    number: bool = True
    shade: str = ""  # a heat-map class for the table view


HEAT = ("", "bg-info bg-opacity-10", "bg-info bg-opacity-25", "bg-info bg-opacity-50")


def heat(rows: list[list[Cell]], step: int = 1) -> None:
    """Shade a grid's counts by their share of the largest (every `step`-th column)."""
    cells = [c for row in rows for c in row[1::step] if c.number and isinstance(c.value, int)]
    top = max([c.value for c in cells] + [0])
    for cell in cells:
        if top and cell.value:
            cell.shade = HEAT[min(len(HEAT) - 1, 1 + cell.value * (len(HEAT) - 1) // (top + 1))]


@dataclass
class Series:
    label: str
    values: Sequence[float]
    kind: str = ""  # "line" on a bar chart


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # bar, line, stacked
    labels: list[str]
    series: list[Series]
    header: list[str]
    rows: list[list[Cell]]
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        """What static/segments/charts.js draws (data only: the page runs no inline script)."""
        return {
            "kind": self.kind,
            "labels": self.labels,
            "series": [{"label": s.label, "values": s.values, "kind": s.kind} for s in self.series],
        }

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """The header and the plain values, for the XLSX export."""
        return self.header, [[plain(c.value) for c in row] for row in self.rows]


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value if isinstance(value, int | float | str) or value is None else str(value)


@dataclass
class Filters:
    """A dashboard's period (months, both included) and an optional owner."""

    start: dt.date
    end: dt.date
    owner: User | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def months(self) -> list[dt.date]:
        return months_between(self.start, self.end)

    @property
    def keys(self) -> tuple[str, str]:
        return f"{self.start:%Y-%m}", f"{self.end:%Y-%m}"

    def moments(self) -> tuple[dt.datetime, dt.datetime]:
        zone = timezone.get_current_timezone()
        return (
            dt.datetime.combine(self.start, dt.time(), zone),
            dt.datetime.combine(add_months(self.end, 1), dt.time(), zone),
        )

    def drill(self, **extra: Any) -> str:
        """The client list's query string for a drill-down (with this owner, if chosen)."""
        values = {k: v for k, v in extra.items() if v not in (None, "")}
        if self.owner is not None:
            values["owner"] = self.owner.pk
        return urlencode(values)


def default_filters() -> Filters:
    """The analytics window's first month up to this month."""
    config = current()
    window = default_window(config, timezone.now())
    return Filters(window.start, timezone.localdate().replace(day=1))


def build_filters(user: AnyUser, data: Mapping[str, Any]) -> Filters:
    """From request values ("from", "to": YYYY-MM; "owner": an id the viewer may see). A bad
    value is named in `errors` and replaced by the default, never a 500."""
    filters = default_filters()
    errors: dict[str, list[str]] = {}
    for key in ("from", "to"):
        raw = str(data.get(key) or "")[:20]
        if not raw:
            continue
        month = parse_month(raw)
        if month is None:
            errors[key] = [_("Enter a month as YYYY-MM.")]
        elif key == "from":
            filters.start = month
        else:
            filters.end = month
    if filters.end < filters.start:
        errors["to"] = [_("The period must end after it starts.")]
        fallback = default_filters()
        filters.start, filters.end = fallback.start, fallback.end
    elif len(filters.months) > MAX_MONTHS:
        errors["from"] = [_("At most %(n)d months.") % {"n": MAX_MONTHS}]
        filters.start = add_months(filters.end, 1 - MAX_MONTHS)
    raw_owner = str(data.get("owner") or "")[:30]
    if raw_owner:
        filters.owner = _owner(user, raw_owner)
        if filters.owner is None:
            errors["owner"] = [_("Choose a manager whose clients you may see.")]
    filters.errors = errors
    return filters


def _owner(user: AnyUser, raw: str) -> User | None:
    pk = parse_id(raw)
    allowed = access.visible_owner_ids(user)
    if pk is None or (allowed is not None and pk not in allowed):
        return None
    return User.objects.filter(pk=pk).first()


def choosable_owners(user: AnyUser) -> QuerySet[User]:
    allowed = access.visible_owner_ids(user)
    people = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    return people if allowed is None else people.filter(pk__in=allowed)


def month_label(month: dt.date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


# --- reading the cells ---------------------------------------------------------------------------


def cells(
    model: type[Model],
    user: AnyUser,
    filters: Filters,
    chart: str,
    kind: str = "client",
    per_owner: bool = False,
) -> list[Any]:
    """The chart's cells the viewer may sum (owner chosen: only theirs), as value rows
    (owner, key, clients, revenue, count); summed over the owners by the database unless
    `per_owner` (then owner is None)."""
    mine = access.owners(user, kind)
    if mine is None:
        return []
    rows = model._default_manager.filter(mine, chart=chart)
    if filters.owner is not None:
        rows = rows.filter(owner_id=filters.owner.pk)
    if per_owner:
        return list(rows.values_list("owner_id", "key", "clients", "revenue", "count"))
    summed = (
        rows.values("key")
        .annotate(n=Sum("clients"), money=Sum("revenue"), many=Sum("count"))
        .order_by()
    )
    return [(None, r["key"], r["n"], r["money"], r["many"]) for r in summed]


def tally(
    user: AnyUser, filters: Filters, chart: str, kind: str = "client", per_owner: bool = False
) -> list[Any]:
    return cells(Tally, user, filters, chart, kind, per_owner)


def dashboard_tally(
    user: AnyUser, filters: Filters, chart: str, kind: str = "client", per_owner: bool = False
) -> list[Any]:
    return cells(DashboardTally, user, filters, chart, kind, per_owner)


def in_period(key: str, filters: Filters) -> bool:
    first, last = filters.keys
    return first <= key[:7] <= last


def computed_at() -> dt.datetime | None:
    return current().computed_at
