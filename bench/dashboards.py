"""`python -m bench.dashboards [--clients 100000] [--purchases 1000000] [--db postgresql,sqlite]`

A fresh database per target (kartoteka_bench_dashboards / var/bench-dashboards.sqlite3): N demo
clients with their interactions (`kartoteka demo`'s bulk loader), M purchases written straight
to the table (bench.analytics' loader), a few thousand deals through the sales services, then
the recompute job (once 90 days back, then now: the second run writes class history, which the
movements report reads) and the dashboard cells (`segments.tasks.recompute_classes`' steps).

Then every analytics page (overview, classes, cycle, cohorts, conversion, managers) is requested
in-process with Django's test client, for an administrator (every owner) and a head of sales
(a team of five managers), `--runs` times after a warm-up: p50 / p95 against the issue's
< 300 ms. Beside each page, "raw" replays exactly the SELECTs the page ran through a plain
cursor, so page / raw is what views, templates and the ORM add.

Prints a Markdown table; writes var/bench-dashboards-results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from typing import Any

from bench.databases import Target
from bench.runner import measure_targets, publish, run_worker, target_parser

PAGE_TARGET_MS = 300
WARM_UP = 3
PAGES = ("", "classes/", "cycle/", "cohorts/", "conversion/", "managers/")


def users() -> list[tuple[str, Any]]:
    from kartoteka.accounts.models import Role, Team, User
    from kartoteka.clients import demo

    admin = User.objects.create_superuser("bench-admin", "bench@example.com", None)
    head = User.objects.create_user("bench-head", "head@example.com", None)
    head.role = Role.objects.get(code="head")
    head.save(update_fields=["role"])
    team = Team.objects.create(name="Bench team", head=head)
    team.members.add(*demo.ensure_managers()[:5])
    return [("administrator", admin), ("head of sales (5 managers)", head)]


def _replay(queries: list[dict[str, Any]]) -> float:
    from django.db import connection

    total = 0.0
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            began = time.perf_counter()
            try:
                cursor.execute(sql)
                cursor.fetchall()
            except Exception as exc:  # a statement whose logged text does not re-run as is
                sys.stderr.write(f"bench: not replayed ({exc}): {sql[:80]}\n")
                continue
            total += (time.perf_counter() - began) * 1000
    return total


def page_timings(runs: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client as Browser
    from django.test.utils import CaptureQueriesContext

    from bench.pages import percentile

    out = []
    for label, who in users():
        browser = Browser()
        browser.force_login(who)
        for page in PAGES:
            url = f"/analytics/{page}"
            for _ in range(WARM_UP):
                assert browser.get(url).status_code == 200, url
            timings, raw = [], []
            for _ in range(runs):
                with CaptureQueriesContext(connection) as captured:
                    began = time.perf_counter()
                    response = browser.get(url)
                    timings.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, url
                raw.append(_replay(captured.captured_queries))
            out.append(
                {
                    "user": label,
                    "url": url,
                    "runs": runs,
                    "p50_ms": round(percentile(timings, 0.5), 1),
                    "p95_ms": round(percentile(timings, 0.95), 1),
                    "raw_p50_ms": round(percentile(raw, 0.5), 1),
                    "raw_p95_ms": round(percentile(raw, 0.95), 1),
                    "queries": len(captured),
                }
            )
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from bench.analytics import load_purchases
    from kartoteka.clients import demo
    from kartoteka.sales.demo import add_deals
    from kartoteka.segments import dashboard_tallies
    from kartoteka.segments.models import DashboardTally, Tally
    from kartoteka.segments.recompute import recompute

    began = time.perf_counter()
    demo.load(args.clients, seed=5, interactions_per_client=args.interactions)
    load_purchases(args.purchases)
    add_deals(args.deals, seed=5)
    load_s = time.perf_counter() - began
    # A first run 90 days back, so that the second (timed) one writes class history and the
    # contact-cycle movements report has moves to count.
    recompute(now=timezone.now() - dt.timedelta(days=90))
    began = time.perf_counter()
    run = recompute()
    recompute_s = time.perf_counter() - began
    began = time.perf_counter()
    cells = dashboard_tallies.refresh()
    refresh_s = time.perf_counter() - began
    return {
        "vendor": connection.vendor,
        "clients": args.clients,
        "purchases": args.purchases,
        "interactions_per_client": args.interactions,
        "deals": args.deals,
        "load_s": round(load_s, 1),
        "recompute_s": round(recompute_s, 1),
        "recompute": run,
        "class_changes": run["changes"],
        "refresh_s": round(refresh_s, 2),
        "tally_rows": Tally.objects.count(),
        "dashboard_cells": cells,
        "dashboard_tally_rows": DashboardTally.objects.count(),
        "pages": page_timings(args.runs),
    }


def _worker(args: argparse.Namespace) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(json.dumps(run(args), default=str))


def _run(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    command = ["-m", "bench.dashboards", "--worker", "--clients", str(args.clients)]
    command += ["--purchases", str(args.purchases), "--runs", str(args.runs)]
    command += ["--interactions", str(args.interactions), "--deals", str(args.deals)]
    return run_worker(target, command, ALLOWED_HOSTS="testserver,localhost")


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | clients | purchases | deals | recompute, s | dashboard cells, s "
        "| tally rows |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['label']} | {r['clients']:,} | {r['purchases']:,} | {r['deals']:,} "
            f"| {r['recompute_s']} | {r['refresh_s']} "
            f"| {r['tally_rows'] + r['dashboard_tally_rows']:,} |"
        )
    lines += [
        "",
        "| database | user | page | runs | p50 ms | p95 ms | target | met | queries "
        "| raw SQL p95 ms | page / raw |",
        "|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        for p in r["pages"]:
            met = "yes" if p["p95_ms"] < PAGE_TARGET_MS else "**no**"
            ratio = p["p95_ms"] / p["raw_p95_ms"] if p["raw_p95_ms"] else 0
            lines.append(
                f"| {r['label']} | {p['user']} | {p['url']} | {p['runs']} | {p['p50_ms']} "
                f"| {p['p95_ms']} | < {PAGE_TARGET_MS} | {met} | {p['queries']} "
                f"| {p['raw_p95_ms']} | {ratio:.1f}× |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = target_parser("dashboards", __doc__, "dashboards")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=float, default=2)
    parser.add_argument("--deals", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    results = measure_targets(args, _worker, _run)
    if results is None:
        return
    publish("dashboards", "Dashboards bench", markdown(results), results)


if __name__ == "__main__":
    main()
