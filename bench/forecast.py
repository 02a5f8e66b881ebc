"""`python -m bench.forecast [--deals 1000000] [--db postgresql,sqlite]`: sales reports' figures.

A fresh database per target (kartoteka_bench_forecast / var/bench-forecast.sqlite3): 2,000 demo
clients, the 20 demo managers, and N deals in the seeded pipeline with their stage history,
written with `write_rows` (COPY on PostgreSQL): half open at any open stage, 30 % won, 20 % lost,
created over the last two years, closed 1–120 days later, one in ten in dollars, one open deal in
ten without an expected close date. Each report function of kartoteka.sales.reports runs `--runs`
times for an administrator over an 18-month period (12 back, 6 ahead); p50/p95 and the query count.
Prints a Markdown table; writes var/bench-forecast-results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import time
from typing import Any

from bench.databases import Target
from bench.runner import measure_targets, publish, run_worker, target_parser

TARGET_MS = 1000
CHUNK = 50_000
DEAL_COLS = [
    *("id", "created_at", "updated_at", "version", "pipeline_id", "stage_id", "title"),
    *("client_id", "owner_id", "amount", "currency", "next_step", "source", "stage_entered_at"),
    *("search_title", "expected_close", "loss_reason_id", "closed_at"),
]
CHANGE_COLS = ["deal_id", "from_stage_id", "to_stage_id", "actor_id", "at", "seconds_in_stage"]


def _deal(n: int, r: random.Random, world: dict[str, Any]) -> tuple[tuple[Any, ...], list[Any]]:
    """One deal row and its stage-change rows."""
    opened, won, lost = world["open"], world["won"], world["lost"]
    client, owner = r.choice(world["clients"])
    created = world["now"] - dt.timedelta(minutes=r.randint(0, 730 * 24 * 60))
    fate = r.random()
    if fate < 0.5:
        path = opened[: r.randint(1, len(opened))]
    else:
        path = opened[: r.randint(1, len(opened))] + ([won] if fate < 0.8 else [lost])
    closed = None
    if fate >= 0.5:
        closed = min(created + dt.timedelta(days=r.randint(1, 120)), world["now"])
    end = closed or world["now"]
    step = (end - created) / len(path)
    changes, previous = [], None
    for i, stage_id in enumerate(path):
        moment = created + step * i
        spent = None if previous is None else int(step.total_seconds())
        changes.append((n, previous, stage_id, owner, world["stamp"](moment), spent))
        previous = stage_id
    expected = None
    if fate < 0.5 and r.random() > 0.1:
        expected = (world["now"] + dt.timedelta(days=r.randint(-60, 240))).date()
    elif fate >= 0.5:
        expected = end.date()
    stamp = world["stamp"]
    amount = f"{r.randint(10, 5000) * 1000}.00"
    currency = "USD" if r.random() < 0.1 else "RUB"
    reason = r.choice(world["reasons"]) if path[-1] == lost else None
    # fmt: off
    row = (n, stamp(created), stamp(end), 1, world["pipeline"], path[-1], f"Сделка {n}", client,
           owner, amount, currency, "", "", stamp(created + step * (len(path) - 1)),
           f"сделка {n}", expected, reason, stamp(closed) if closed else None)
    # fmt: on
    return row, changes


def load(count: int, seed: int = 7) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from kartoteka.clients import demo
    from kartoteka.clients.bulk import is_postgres, table, write_rows
    from kartoteka.clients.models import Client
    from kartoteka.sales.models import Deal, LossReason, Pipeline, StageChange

    demo.load(2000, seed=seed, interactions_per_client=1)
    managers = demo.ensure_managers()
    pipeline = Pipeline.objects.first()
    assert pipeline is not None
    stages = list(pipeline.stages.order_by("position"))
    world = {
        "now": timezone.now(),
        "pipeline": pipeline.pk,
        "open": [s.pk for s in stages if s.kind == "open"],
        "won": next(s.pk for s in stages if s.kind == "won"),
        "lost": next(s.pk for s in stages if s.kind == "lost"),
        "reasons": list(LossReason.objects.values_list("pk", flat=True)),
        "clients": [(c, r) for c, r in Client.objects.values_list("pk", "owner_id")],
        "stamp": (lambda m: m) if is_postgres() else (lambda m: str(m.replace(tzinfo=None))),
    }
    r = random.Random(seed)
    world["clients"] = [(c, r.choice(managers)) for c, _owner in world["clients"]]
    for first in range(1, count + 1, CHUNK):
        deals, changes = [], []
        for n in range(first, min(first + CHUNK, count + 1)):
            row, moves = _deal(n, r, world)
            deals.append(row)
            changes.extend(moves)
        with transaction.atomic():
            write_rows(table(Deal), DEAL_COLS, deals)
            write_rows(table(StageChange), CHANGE_COLS, changes)
    with connection.cursor() as cursor:
        if is_postgres():
            for name in (table(Deal), table(StageChange)):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # nosec B608
                    f"(SELECT MAX(id) FROM {name}))"
                )
                cursor.execute(f"VACUUM ANALYZE {name}")
        else:
            cursor.execute("ANALYZE")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.pages import percentile
    from kartoteka.accounts.models import User
    from kartoteka.sales import plans, reports
    from kartoteka.sales.models import Pipeline

    started = time.perf_counter()
    load(args.deals)
    load_s = time.perf_counter() - started
    admin = User.objects.create_superuser("bench-admin", "bench@example.com", None)
    this_month = timezone.localdate().replace(day=1)
    period = reports.Filters(reports.add_months(this_month, -12), reports.add_months(this_month, 6))
    pipeline = Pipeline.objects.get()
    cases = {
        "plan vs fact": lambda: plans.plan_vs_fact(admin, period),
        "forecast (weighted pipeline)": lambda: reports.forecast(admin, period),
        "win rate, average deal, cycle": lambda: reports.outcomes(admin, period),
        "funnel": lambda: reports.funnel(admin, period, pipeline),
        "loss reasons": lambda: reports.losses(admin, period),
        "per manager": lambda: reports.per_manager(admin, period),
    }
    _plans(admin, period)
    results = []
    for label, call in cases.items():
        call()  # warm: the rights, the caches
        timings = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                call()
                timings.append((time.perf_counter() - began) * 1000)
        results.append(
            {
                "label": label,
                "runs": len(timings),
                "p50_ms": percentile(timings, 0.5),
                "p95_ms": percentile(timings, 0.95),
                "queries": len(captured),
                "target_ms": TARGET_MS,
            }
        )
    return {"deals": args.deals, "load_s": round(load_s, 1), "reports": results}


def _plans(admin: Any, period: Any) -> None:
    """A plan per demo manager and month of the period, so plan vs fact has rows to fill."""
    from kartoteka.clients import demo
    from kartoteka.sales.models import SalesPlan

    SalesPlan.objects.bulk_create(
        SalesPlan(month=month, owner_id=owner, amount=10_000_000, deals=10)
        for owner in demo.ensure_managers()
        for month in period.months
    )


def _worker(args: argparse.Namespace) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(json.dumps(run(args), default=str))


def _run(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    command = ["-m", "bench.forecast", "--worker", "--deals", str(args.deals)]
    return run_worker(target, [*command, "--runs", str(args.runs)])


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | deals | report | runs | p50 ms | p95 ms | target | met | queries |",
        "|---|---:|---|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        for p in r["reports"]:
            met = "yes" if p["p95_ms"] < p["target_ms"] else "**no**"
            lines.append(
                f"| {r['label']} | {r['deals']:,} | {p['label']} | {p['runs']} "
                f"| {p['p50_ms']:.1f} | {p['p95_ms']:.1f} | < {p['target_ms']} | {met} "
                f"| {p['queries']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = target_parser("forecast", __doc__, "forecast")
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    results = measure_targets(args, _worker, _run)
    if results is None:
        return
    publish("forecast", "Forecast bench", markdown(results), results)


if __name__ == "__main__":
    main()
