"""The recompute job: every client's ABC, XYZ, RFM and contact-cycle stage, in bulk.

One grouped query reads the purchases (`measures.purchase_figures`), one reads the clients,
one the current classes; the classes are computed in memory (`classify`, `cycle`) and the
class table is rewritten with COPY (PostgreSQL) or executemany (SQLite). A change of a class
is kept as a `ClassChange` row (from the second run on: the first run only classifies). The
per-owner dashboard cells (`Tally`) are rewritten in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kartoteka.clients.bulk import write_rows
from kartoteka.clients.models import Client
from kartoteka.segments import classify, cycle, measures
from kartoteka.segments.config import abc_rule, current, cycle_rule, default_window, xyz_rule
from kartoteka.segments.measures import Figures, Window
from kartoteka.segments.models import AnalyticsConfig, ClassChange, ClientClass, Cycle, Tally

CLASS_COLUMNS = (
    "client_id", "abc", "xyz", "rfm", "cycle", "revenue", "purchases", "cv", "periods",
    "first_purchase_at", "last_purchase_at",
)  # fmt: skip
MEASURES = ("abc", "xyz", "rfm", "cycle")
# (owner, chart, key) -> [clients, revenue, count]
Tallies = dict[tuple[Any, ...], list[Any]]


def _cell() -> list[Any]:
    return [0, Decimal(0), 0]


def _month_key(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m")


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
    with transaction.atomic():
        figures = {f.client_id: f for f in measures.purchase_figures(config.currency, window, now)}
        classes = classes_of(figures.values(), window, config)
        read = time.monotonic()
        rows, changes, tallies = _rows(figures, classes, config, now, window)
        _write(rows, changes)
        classified = time.monotonic()
        _dashboard_tallies(tallies, config, window, now)
        _write_tallies(tallies)
        run = {
            "at": now.isoformat(),
            "from": window.start.isoformat(),
            "to": (window.end - dt.timedelta(days=1)).isoformat(),
            "currency": config.currency,
            "clients": len(rows),
            "with_purchases": len(classes.rfm),
            "changes": len(changes),
            "excluded": measures.excluded(config.currency, window),
            "seconds": {
                "read": round(read - started, 2),
                "classes": round(classified - started, 2),
                "total": 0.0,
            },
        }
        run["seconds"]["total"] = round(time.monotonic() - started, 2)  # type: ignore[index]
        AnalyticsConfig.objects.filter(pk=config.pk).update(computed_at=now, last_run=run)
    return run


def _rows(
    figures: dict[int, Figures],
    classes: Classes,
    config: AnalyticsConfig,
    now: dt.datetime,
    window: Window,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], Tallies]:
    old = {
        row[0]: row[1:]
        for row in ClientClass.objects.values_list("client_id", *MEASURES).iterator(20000)
    }
    first_run = config.computed_at is None
    rule = cycle_rule(config)
    adapt = connection.ops.adapt_datetimefield_value
    rows: list[tuple[Any, ...]] = []
    changes: list[tuple[Any, ...]] = []
    tallies: Tallies = defaultdict(_cell)
    start, _end = window.bounds()
    live = Client.objects.values_list("id", "owner_id", "stage", "last_contact_at", "created_at")
    for client_id, owner_id, card_stage, last_contact_at, created in live.iterator(20000):
        if start <= created < now:
            tallies[(owner_id, "leads", _month_key(created))][0] += 1
        f = figures.get(client_id)
        before = old.get(client_id)
        stage = cycle.stage(
            purchases=f.purchases_ever if f else 0,
            last_purchase_at=f.last_ever if f else None,
            last_contact_at=last_contact_at,
            card_stage=card_stage,
            previous=before[3] if before else "",
            now=now,
            rule=rule,
        )
        new = (
            classes.abc.get(client_id, ""),
            classes.xyz.get(client_id, ""),
            classes.rfm.get(client_id, ""),
            stage,
        )
        revenue = f.revenue if f else Decimal(0)
        rows.append(
            (
                client_id, *new, revenue, f.purchases if f else 0,
                classes.cv.get(client_id), classes.periods.get(client_id, 0),
                adapt(f.first_at) if f else None, adapt(f.last_at) if f and f.last_at else None,
            )
        )  # fmt: skip
        if before is not None or not first_run:
            previous = before or ("", "", "", "")
            for measure, was, now_is in zip(MEASURES, previous, new, strict=True):
                if was != now_is:
                    changes.append((client_id, measure, was, now_is, adapt(now)))
        _tally(tallies, owner_id, new, revenue)
    return rows, changes, tallies


def _tally(
    tallies: dict[tuple[Any, ...], list[Any]],
    owner_id: int | None,
    new: tuple[str, ...],
    revenue: Decimal,
) -> None:
    abc, xyz, rfm, stage = new
    keys = [("cycle", stage)]
    if abc:
        keys.append(("abcxyz", f"{abc}{xyz or '-'}"))
    if rfm:
        keys.append(("rfm", rfm[:2]))
    for chart, key in keys:
        cell = tallies[(owner_id, chart, key)]
        cell[0] += 1
        cell[1] += revenue


def _write(rows: list[tuple[Any, ...]], changes: list[tuple[Any, ...]]) -> None:
    ClientClass.objects.all().delete()
    write_rows(ClientClass._meta.db_table, CLASS_COLUMNS, rows)
    write_rows(ClassChange._meta.db_table, ("client_id", "measure", "old", "new", "at"), changes)


def _dashboard_tallies(
    tallies: Tallies, config: AnalyticsConfig, window: Window, now: dt.datetime
) -> None:
    """Sales per month, cohorts by first-purchase month and activity per author."""
    for owner, first, month, buyers, revenue, count in measures.cohorts(
        config.currency, window, now
    ):
        month_key = _index_key(month)
        for chart, key in (("cohort", f"{_index_key(first)}:{month_key}"), ("sales", month_key)):
            cell = tallies[(owner, chart, key)]
            cell[0] += buyers
            cell[1] += revenue
            cell[2] += count
    for author, month, kind, count in measures.activity(window, now):
        tallies[(author, "activity", f"{_index_key(month)}:{kind}")][2] += count


def _write_tallies(tallies: Tallies) -> None:
    Tally.objects.all().delete()
    Tally.objects.bulk_create(
        (
            Tally(owner_id=owner, chart=chart, key=key, clients=n, revenue=revenue, count=count)
            for (owner, chart, key), (n, revenue, count) in tallies.items()
        ),
        batch_size=2000,
    )


def known_stages() -> list[str]:
    return list(Cycle.values)
