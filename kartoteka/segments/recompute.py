"""The recompute job: every client's ABC, XYZ, RFM and contact-cycle stage, in bulk.

The purchases are read once, grouped per client and month into a temporary table
(`scan.months`); the window's buyers come back as plain numbers and their classes are computed
over arrays (`vectors`, the same rules as `classify`); the contact-cycle stage, the comparison
with the current classes and the writes stay in the database (`scan`). A change of a class is
kept as a `ClassChange` row (from the second run on: the first run only classifies), and only
the rows of the class table that differ are rewritten. The per-owner dashboard cells (`Tally`)
are rewritten in the same transaction. `classes_of` is the per-client reference the CLI prints.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from kartoteka.core.bulk import write_rows
from kartoteka.segments import classify, measures, scan, vectors
from kartoteka.segments.config import abc_rule, current, cycle_rule, default_window, xyz_rule
from kartoteka.segments.measures import Figures, Window
from kartoteka.segments.models import AnalyticsConfig, Cycle, Tally

CLASS_COLUMNS = (
    "client_id", "abc", "xyz", "rfm", "cycle", "revenue", "purchases", "cv", "periods",
    "first_purchase_at", "last_purchase_at",
)  # fmt: skip
MEASURES = ("abc", "xyz", "rfm", "cycle")
CENT = Decimal("0.01")
# (owner, chart, key) -> [clients, revenue, count]
Tallies = dict[tuple[Any, ...], list[Any]]


def _cell() -> list[Any]:
    return [0, Decimal(0), 0]


def _index_key(index: int) -> str:
    return measures.month_of(index).strftime("%Y-%m")


@dataclass
class Classes:
    """The classes of the clients with purchases in a window (what the CLI prints too)."""

    abc: dict[int, str] = field(default_factory=dict)
    xyz: dict[int, str] = field(default_factory=dict)
    rfm: dict[int, str] = field(default_factory=dict)
    cv: dict[int, float | None] = field(default_factory=dict)
    periods: dict[int, int] = field(default_factory=dict)


def classes_of(figures: Iterable[Figures], window: Window, config: AnalyticsConfig) -> Classes:
    rows = list(figures)
    out = Classes()
    out.abc = classify.abc({f.client_id: f.revenue for f in rows}, abc_rule(config))
    rule = xyz_rule(config)
    _start, end = window.bounds()
    rfm_input = {}
    for f in rows:
        if f.purchases == 0:
            continue
        periods = window.last_month - max(window.first_month, f.first_month) + 1
        cv = classify.variation_from_sums(float(f.revenue), f.squares, periods)
        out.cv[f.client_id], out.periods[f.client_id] = cv, periods
        letter = classify.xyz_letter(cv, periods, rule)
        if letter is not None:
            out.xyz[f.client_id] = letter
        recency = max((end - f.last_at).days, 0) if f.last_at else 0
        rfm_input[f.client_id] = classify.RfmInput(recency, f.purchases, f.revenue)
    out.rfm = classify.rfm(rfm_input)
    return out


def recompute(now: dt.datetime | None = None, window: Window | None = None) -> dict[str, Any]:
    """Classify every live client; returns what `AnalyticsConfig.last_run` keeps."""
    started = time.monotonic()
    now = now or timezone.now()
    config = current()
    window = window or default_window(config, now)
    with transaction.atomic(), scan.sqlite_cache():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # The per-(client, month) grouping of 10M purchases holds ~5M groups: spilled
                # to disk it costs far more than the memory, for one session at night.
                cursor.execute("SET LOCAL work_mem = '1GB'")
        scan.drop()
        scan.months(window, now)
        scan.figures(config.currency, window)
        buyers = scan.buyers(window)
        read = time.monotonic()
        _write_new(buyers, window, config)
        scan.final(cycle_rule(config), now)
        changes = scan.history(MEASURES, now, first_run=config.computed_at is None)
        scan.store(CLASS_COLUMNS)
        classified = time.monotonic()
        tallies: Tallies = defaultdict(_cell)
        for owner, chart, key, n, revenue in scan.class_cells():
            cell = tallies[(owner, chart, key)]
            cell[0] += n
            cell[1] += measures._decimal(revenue)
        for owner, month, n in scan.leads(window, now):
            tallies[(owner, "leads", _index_key(int(month)))][0] += n
        _dashboard_tallies(tallies, config, window, now)
        _write_tallies(tallies)
        run = {
            "at": now.isoformat(),
            "from": window.start.isoformat(),
            "to": (window.end - dt.timedelta(days=1)).isoformat(),
            "currency": config.currency,
            "clients": _count(scan.TMP_FINAL),
            "with_purchases": len(buyers),
            "changes": changes,
            "excluded": _excluded(config.currency, window, now),
            "seconds": {
                "read": round(read - started, 2),
                "classes": round(classified - started, 2),
                "total": 0.0,
            },
        }
        scan.drop()
        run["seconds"]["total"] = round(time.monotonic() - started, 2)  # type: ignore[index]
        AnalyticsConfig.objects.filter(pk=config.pk).update(computed_at=now, last_run=run)
    return run


def _count(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {name}")  # noqa: S608  # nosec B608 - our temp table
        return int(cursor.fetchone()[0])


def _write_new(buyers: np.ndarray, window: Window, config: AnalyticsConfig) -> None:
    """The ABC, XYZ and RFM classes of the window's buyers, computed over arrays, into
    `scan.TMP_NEW`."""
    ids, cents, squares, purchases, recency, first_month = buyers.T
    kopecks = cents.astype(np.int64)
    since = np.maximum(first_month.astype(np.int64), window.first_month)
    periods = window.last_month - since + 1
    cv = vectors.variation(kopecks / 100, squares, periods)
    days = np.maximum(recency.astype(np.int64), 0)
    columns = (
        ids.astype(np.int64).tolist(),
        vectors.abc(kopecks, abc_rule(config)).tolist(),
        vectors.xyz(cv, periods, xyz_rule(config)).tolist(),
        vectors.rfm(days, purchases.astype(np.int64), kopecks).tolist(),
        [None if math.isnan(v) else v for v in cv.tolist()],
        periods.tolist(),
    )
    scan.write_new(zip(*columns, strict=True))


def _excluded(currency: str, window: Window, now: dt.datetime) -> dict[str, Any]:
    if window.bounds()[1] > now:  # the window runs past the scan's end: ask the table
        return measures.excluded(currency, window)
    return {
        code: {"purchases": int(n), "amount": str(measures._decimal(total).quantize(CENT))}
        for code, n, total in scan.excluded(currency)
    }


def _dashboard_tallies(
    tallies: Tallies, config: AnalyticsConfig, window: Window, now: dt.datetime
) -> None:
    """Sales per month, cohorts by first-purchase month and activity per author."""
    for owner, first, month, buyers, revenue, count in scan.cohorts(config.currency, window):
        month_key = _index_key(int(month))
        cohort = f"{_index_key(int(first))}:{month_key}"
        for chart, key in (("cohort", cohort), ("sales", month_key)):
            cell = tallies[(owner, chart, key)]
            cell[0] += int(buyers)
            cell[1] += measures._decimal(revenue)
            cell[2] += int(count)
    for author, month, kind, count in measures.activity(window, now):
        tallies[(author, "activity", f"{_index_key(month)}:{kind}")][2] += count


def _write_tallies(tallies: Tallies) -> None:
    Tally.objects.all().delete()
    write_rows(
        Tally._meta.db_table,
        ("owner_id", "chart", "key", "clients", "revenue", "count"),
        [
            (owner, chart, key, n, revenue, count)
            for (owner, chart, key), (n, revenue, count) in tallies.items()
        ],
    )


def known_stages() -> list[str]:
    return list(Cycle.values)
