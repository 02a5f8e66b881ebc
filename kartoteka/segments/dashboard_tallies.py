"""Dashboard cells the recompute's `Tally` lacks: deals per month and clients per source.

`refresh()` rewrites `DashboardTally` in a few grouped queries (their number does not depend on
the number of deals or clients); the recompute job calls it after the classes are written, so a
dashboard page reads a few hundred rows instead of scanning deals or clients.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kartoteka.clients.models import Client
from kartoteka.segments.config import current, default_window
from kartoteka.segments.models import ClassChange, DashboardTally

# (owner, chart, key) -> [clients, revenue, count]
Cells = dict[tuple[Any, str, str], list[Any]]


def _month(value: dt.date | dt.datetime) -> str:
    return value.strftime("%Y-%m")


def _deals(cells: Cells, since: dt.datetime, currency: str) -> None:
    from kartoteka.sales.models import Deal, Stage

    created = (
        Deal.objects.filter(created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .values("owner", "month")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in created:
        cells[(row["owner"], "deals", f"{_month(row['month'])}:created")][2] += row["n"]
    closed = (
        Deal.objects.filter(closed_at__gte=since, stage__kind__in=[Stage.Kind.WON, Stage.Kind.LOST])
        .annotate(month=TruncMonth("closed_at"))
        .values("owner", "month", "stage__kind", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    )
    for row in closed:
        cell = cells[(row["owner"], "deals", f"{_month(row['month'])}:{row['stage__kind']}")]
        cell[2] += row["n"]
        if row["currency"] == currency and row["total"] is not None:
            cell[1] += row["total"]


def _sources(cells: Cells) -> None:
    grouped = (
        Client.objects.values("owner", "source", "analytics__cycle")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in grouped:
        key = f"{row['source'] or '-'}:{row['analytics__cycle'] or '-'}"
        cells[(row["owner"], "source", key)][0] += row["n"]


def _moves(cells: Cells, since: dt.datetime) -> None:
    """Contact-cycle moves per month, by the client's owner (the movements report)."""
    moves = (
        ClassChange.objects.filter(measure=ClassChange.Measure.CYCLE, at__gte=since)
        .annotate(month=TruncMonth("at"))
        .values("client__owner", "month", "old", "new")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in moves:
        key = f"{_month(row['month'])}:{row['old'] or '-'}:{row['new'] or '-'}"
        cells[(row["client__owner"], "moves", key)][2] += row["n"]


def refresh(now: dt.datetime | None = None) -> int:
    """Rewrite every dashboard cell; answers how many were written."""
    now = now or timezone.now()
    config = current()
    since, _end = default_window(config, now).bounds()
    cells: Cells = defaultdict(lambda: [0, Decimal(0), 0])
    _deals(cells, since, config.currency)
    _sources(cells)
    _moves(cells, since)
    with transaction.atomic():
        DashboardTally.objects.all().delete()
        DashboardTally.objects.bulk_create(
            (
                DashboardTally(
                    owner_id=owner, chart=chart, key=key, clients=n, revenue=revenue, count=count
                )
                for (owner, chart, key), (n, revenue, count) in cells.items()
            ),
            batch_size=2000,
        )
    return len(cells)
