"""`python -m bench.analytics [--clients 1000000] [--purchases 10000000] [--db postgresql,sqlite]`

A fresh database per target (kartoteka_bench_segments / var/bench-segments.sqlite3): N demo
clients (`kartoteka demo`'s bulk loader, no interactions) and M purchases written straight to
the table (COPY on PostgreSQL, executemany on SQLite, secondary indexes rebuilt once): clients
drawn with a skew (a few buy a lot), times over the last 24 months, amounts 100–50,000 RUB, one
purchase in twenty in USD (left out of the classes). Then:

- the recompute job (ABC, XYZ, RFM, contact cycle, class history, dashboard tallies), run twice
  (the first run classifies; then `--changes` new purchases, 1,000 by default, and the second
  run writes the changes), against the target < 60 s on PostgreSQL and < 120 s on SQLite;
- the baseline: the bare grouped SQL (revenue per client) over the same purchases, for the ratio;
- the dashboard page (`/reports/`) for an administrator and for a manager, p50/p95 over `--runs`
  requests after a warm-up, against < 300 ms.

With `--reuse` a database that already holds the requested clients and purchases is kept (its
analytics tables emptied, so the first run is a first run again) instead of loaded afresh;
`--load-only` stops after loading. Loading 10M purchases takes minutes, measuring far less.

Prints a Markdown table; writes var/bench-analytics-results.json.
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

RECOMPUTE_TARGET_S = {"postgresql": 60, "sqlite": 120}
PAGE_TARGET_MS = 300
CHUNK = 200_000
POOL = 200_000


def load_purchases(count: int, seed: int = 11) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from kartoteka.activities.models import Interaction
    from kartoteka.clients import demo_words
    from kartoteka.clients.bulk import analyze, bulk_mode, is_postgres, table, write_rows
    from kartoteka.clients.models import Client

    ids = list(Client.objects.values_list("pk", flat=True))
    r = random.Random(seed)
    now = timezone.now()
    stamp = (lambda m: m.isoformat()) if is_postgres() else (lambda m: str(m.replace(tzinfo=None)))
    moments = [stamp(now - dt.timedelta(seconds=r.randint(0, 730 * 86400))) for _ in range(POOL)]
    amounts = [f"{r.randint(100, 50_000)}.00" for _ in range(POOL)]
    n = len(ids)
    name = table(Interaction)
    with bulk_mode([name], True):
        for first in range(0, count, CHUNK):
            rows = []
            for _ in range(min(CHUNK, count - first)):
                # r² skews towards the first clients: a few buy a lot, most a little.
                client = ids[int(n * r.random() ** 2)]
                when = moments[r.randrange(POOL)]
                currency = "USD" if r.random() < 0.05 else "RUB"
                # fmt: off
                rows.append((when, when, None, client, "purchase", when, None, "web", "", "",
                             "", None, "", amounts[r.randrange(POOL)], currency, "[]", "", ""))
                # fmt: on
            with transaction.atomic():
                write_rows(name, demo_words.INTERACTION_COLS, rows)
    analyze([name])
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {name}")


def add_purchases(count: int, seed: int = 12) -> None:
    """`count` new purchases inside the window (40 days ago), so that the second run has a few
    classes to change and history rows to write."""
    from django.db import transaction
    from django.utils import timezone

    from kartoteka.activities.models import Interaction
    from kartoteka.clients import demo_words
    from kartoteka.clients.bulk import is_postgres, table, write_rows
    from kartoteka.clients.models import Client

    r = random.Random(seed)
    top = Client.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    picked = [r.randint(1, top) for _ in range(count)]
    known = set(Client.objects.filter(pk__in=picked).values_list("pk", flat=True))
    moment = timezone.now() - dt.timedelta(days=40)
    when = moment.isoformat() if is_postgres() else str(moment.replace(tzinfo=None))
    # fmt: off
    rows = [(when, when, None, pk, "purchase", when, None, "web", "", "", "",
             None, "", f"{r.randint(100, 50_000)}.00", "RUB", "[]", "", "")
            for pk in picked if pk in known]
    # fmt: on
    with transaction.atomic():
        write_rows(table(Interaction), demo_words.INTERACTION_COLS, rows)


def baseline_seconds() -> float:
    """The bare grouped query: revenue per client in RUB over the last 12 months."""
    from django.db import connection
    from django.utils import timezone

    from kartoteka.activities.models import Interaction

    since = connection.ops.adapt_datetimefield_value(timezone.now() - dt.timedelta(days=365))
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT client_id, SUM(amount), COUNT(*), MAX(occurred_at) "  # nosec B608
            f"FROM {Interaction._meta.db_table} WHERE kind = 'purchase' AND currency = 'RUB' "
            f"AND occurred_at >= %s GROUP BY client_id",
            [since],
        )
        while cursor.fetchmany(20000):
            pass
    return time.perf_counter() - began


def page_timings(runs: int) -> list[dict[str, Any]]:
    from django.test import Client as Browser
    from django.test.utils import CaptureQueriesContext

    from bench.pages import percentile
    from kartoteka.accounts.models import User
    from kartoteka.clients import demo
    from kartoteka.segments.models import Tally

    admin = User.objects.create_superuser("bench-admin", "bench@example.com", None)
    manager = User.objects.get(pk=demo.ensure_managers()[0])
    out = []
    from django.db import connection

    for who in (admin, manager):
        browser = Browser()
        browser.force_login(who)
        for _ in range(3):
            assert browser.get("/reports/").status_code == 200
        timings = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = browser.get("/reports/")
                timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        out.append(
            {
                "label": "administrator" if who == admin else "manager (own clients)",
                "p50_ms": percentile(timings, 0.5),
                "p95_ms": percentile(timings, 0.95),
                "queries": len(captured),
                "runs": runs,
            }
        )
    out.append({"label": "tally rows", "rows": Tally.objects.count()})
    return out


def _loaded(args: argparse.Namespace) -> bool:
    """Whether the database already holds the requested clients and purchases (for --reuse)."""
    from kartoteka.activities.models import Interaction
    from kartoteka.clients.models import Client

    return (
        Client.objects.count() == args.clients
        # A previous run's second round added a few (--changes): still the same data set.
        and args.purchases
        <= Interaction.objects.filter(kind="purchase").count()
        <= args.purchases * 1.01
    )


def _forget_classes() -> None:
    """Empty the analytics tables of a reused database: the next run is a first run."""
    from django.db import connection

    from kartoteka.segments.models import AnalyticsConfig, ClassChange, ClientClass, Tally

    with connection.cursor() as cursor:
        for model in (ClassChange, ClientClass, Tally):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")  # nosec B608
    AnalyticsConfig.objects.update(computed_at=None, last_run={})


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection

    from kartoteka.clients import demo
    from kartoteka.segments import dashboard_tallies
    from kartoteka.segments.recompute import recompute

    clients_s = purchases_s = 0.0
    if args.reuse and _loaded(args):
        _forget_classes()
    else:
        began = time.perf_counter()
        demo.load(args.clients, seed=3, interactions_per_client=0)
        clients_s = time.perf_counter() - began
        began = time.perf_counter()
        load_purchases(args.purchases)
        purchases_s = time.perf_counter() - began
    if args.load_only:
        return {
            "vendor": connection.vendor,
            "load_clients_s": round(clients_s, 1),
            "load_purchases_s": round(purchases_s, 1),
        }
    first = recompute()
    add_purchases(args.changes)
    began = time.perf_counter()
    second = recompute()
    second_s = time.perf_counter() - began
    began = time.perf_counter()  # the nightly job then rewrites the dashboard cells
    cells = dashboard_tallies.refresh()
    refresh_s = time.perf_counter() - began
    return {
        "vendor": connection.vendor,
        "clients": args.clients,
        "purchases": args.purchases,
        "load_clients_s": round(clients_s, 1),
        "load_purchases_s": round(purchases_s, 1),
        "purchases_per_s": round(args.purchases / purchases_s) if purchases_s else None,
        "first_run": first,
        "second_run": second,
        "second_s": round(second_s, 1),
        "dashboard_cells": cells,
        "dashboard_refresh_s": round(refresh_s, 1),
        "baseline_s": round(baseline_seconds(), 1),
        "pages": [],  # the dashboard pages are timed by bench.dashboards
    }


def _worker(args: argparse.Namespace) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(json.dumps(run(args), default=str))


def _run(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    command = ["-m", "bench.analytics", "--worker", "--clients", str(args.clients)]
    command += ["--purchases", str(args.purchases), "--runs", str(args.runs)]
    command += ["--changes", str(args.changes)]
    command += ["--reuse"] * args.reuse + ["--load-only"] * args.load_only
    return run_worker(target, command, not args.reuse, ALLOWED_HOSTS="testserver,localhost")


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | clients | purchases | load purchases, rows/s | recompute 1st, s "
        "| recompute 2nd, s | target | met | baseline SQL, s | ratio | changes "
        "| dashboard cells, s |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        target = RECOMPUTE_TARGET_S[r["vendor"]]
        first = r["first_run"]["seconds"]["total"]
        worst = max(first, r["second_s"])
        ratio = worst / r["baseline_s"] if r["baseline_s"] else 0
        loaded = f"{r['purchases_per_s']:,}" if r["purchases_per_s"] else "reused"
        lines.append(
            f"| {r['label']} | {r['clients']:,} | {r['purchases']:,} | {loaded} "
            f"| {first} | {r['second_s']} | < {target} | {'yes' if worst < target else '**no**'} "
            f"| {r['baseline_s']} | {ratio:.1f}× | {r['second_run']['changes']:,} "
            f"| {r.get('dashboard_refresh_s', '—')} |"
        )
    lines += ["", "| database | dashboard for | runs | p50 ms | p95 ms | target | met | queries |"]
    lines.append("|---|---|---:|---:|---:|---:|---|---:|")
    for r in results:
        for p in r["pages"]:
            if "p95_ms" not in p:
                continue
            met = "yes" if p["p95_ms"] < PAGE_TARGET_MS else "**no**"
            lines.append(
                f"| {r['label']} | {p['label']} | {p['runs']} | {p['p50_ms']:.1f} "
                f"| {p['p95_ms']:.1f} | < {PAGE_TARGET_MS} | {met} | {p['queries']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = target_parser("analytics", __doc__, "segments")
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--changes", type=int, default=1000, help="purchases added before run 2")
    parser.add_argument(
        "--reuse", action="store_true", help="keep a database that already holds the data"
    )
    parser.add_argument("--load-only", action="store_true", help="load the data and stop")
    args = parser.parse_args(argv)
    results = measure_targets(args, _worker, _run)
    if results is None:
        return
    if args.load_only:
        print(json.dumps(results))
        return
    publish("analytics", "Analytics bench", markdown(results), results)


if __name__ == "__main__":
    main()
