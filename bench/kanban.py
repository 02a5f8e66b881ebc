"""`python -m bench.kanban [--deals 10000] [--db sqlite,postgresql]`: the sales board's figures.

A fresh database per target: 2,000 demo clients and N open deals in the first pipeline, spread
over its open stages and the 20 demo managers. Measured server-side like the other pages
(bench/pages.py: ≥ 200 requests, p50/p95, query count, the same SQL replayed raw): the board as
an administrator and as a manager, and moving a deal to the next stage through the API.
Prints a Markdown table; writes var/bench-kanban-results.json.
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

DEAL_COLS = [
    *("created_at", "updated_at", "version", "pipeline_id", "stage_id", "title", "client_id"),
    *("owner_id", "amount", "currency", "next_step", "source", "stage_entered_at", "search_title"),
]


def load_deals(count: int, seed: int = 3) -> None:
    from django.db import transaction
    from django.utils import timezone

    from kartoteka.clients import demo
    from kartoteka.clients.bulk import is_postgres, table, write_rows
    from kartoteka.clients.models import Client
    from kartoteka.sales.models import Deal, Pipeline

    demo.load(2000, seed=seed, interactions_per_client=1)
    r = random.Random(seed)
    pipeline = Pipeline.objects.first()
    assert pipeline is not None
    stages = list(pipeline.stages.filter(kind="open").values_list("pk", flat=True))
    clients = list(Client.objects.values_list("pk", "owner_id"))
    now = timezone.now()
    rows = []
    for n in range(count):
        client, owner = r.choice(clients)
        moment = now - dt.timedelta(minutes=n)
        stamp: Any = moment if is_postgres() else str(moment.replace(tzinfo=None))
        amount = f"{r.randint(10, 5000) * 1000}.00"
        # fmt: off
        rows.append((stamp, stamp, 1, pipeline.pk, r.choice(stages), f"Сделка {n}", client, owner,
                     amount, "RUB", "", "", stamp, f"сделка {n}"))
        # fmt: on
    with transaction.atomic():
        write_rows(table(Deal), DEAL_COLS, rows)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench import pages
    from bench.pages import Page, percentile
    from bench.worker import _signed_in
    from kartoteka.accounts.models import Role, User
    from kartoteka.sales.models import Deal, Pipeline

    load_deals(args.deals)
    admin = User.objects.create_superuser("bench-admin", "bench@example.com", None)
    manager = User.objects.filter(username="manager01").get()
    manager.role = Role.objects.get(code="manager")
    manager.save(update_fields=["role"])
    pipeline = Pipeline.objects.get()
    board = f"/deals/?pipeline={pipeline.pk}"
    results = []
    for who, user in (("administrator", admin), ("manager", manager)):
        http = _signed_in(user)
        page = Page("kanban", f"Deals board, {args.deals:,} open deals ({who})", 150, [board])
        results.append(pages.measure(http, page, args.requests))
    http = _signed_in(admin)
    stages = list(pipeline.stages.filter(kind="open").order_by("position"))
    deals = list(Deal.objects.filter(stage__in=stages[:-1]).values_list("pk", "stage_id"))
    timings = []
    for pk, stage in random.Random(5).sample(deals, args.requests):
        target = stages[[s.pk for s in stages].index(stage) + 1]
        version = Deal.objects.values_list("version", flat=True).get(pk=pk)
        body = {"stage_id": target.pk, "version": version, "amount": "1000.00"}
        body["expected_close"] = "2027-01-01"
        started = time.perf_counter()
        response = http.post(
            f"/api/v1/deals/{pk}/move", json.dumps(body), content_type="application/json"
        )
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    move = {
        "label": "Move a deal to the next stage (API)",
        "requests": len(timings),
        "p50_ms": percentile(timings, 0.5),
        "p95_ms": percentile(timings, 0.95),
        "target_ms": 50,
    }
    return {"pages": [r.__dict__ for r in results], "move": move}


def _worker(args: argparse.Namespace) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(json.dumps(run(args), default=str))


def _run(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    command = ["-m", "bench.kanban", "--worker", "--deals", str(args.deals)]
    return run_worker(target, [*command, "--requests", str(args.requests)])


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | what | requests | p50 ms | p95 ms | target p95 | met | queries "
        "| raw p95 ms |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in results:
        for p in [*r["pages"], r["move"]]:
            met = "yes" if p["p95_ms"] < p["target_ms"] else "**no**"
            lines.append(
                f"| {r['label']} | {p['label']} | {p['requests']} | {p['p50_ms']:.1f} "
                f"| {p['p95_ms']:.1f} | < {p['target_ms']:.0f} | {met} | {p.get('queries', '—')} "
                f"| {p.get('raw_p95_ms') or '—'} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = target_parser("kanban", __doc__, "kanban", db="sqlite,postgresql")
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    results = measure_targets(args, _worker, _run)
    if results is None:
        return
    publish("kanban", "Kanban bench", markdown(results), results)


if __name__ == "__main__":
    main()
