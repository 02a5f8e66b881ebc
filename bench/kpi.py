"""`python -m bench.kpi [--calls 1000000] [--days 90] [--db postgresql,sqlite] [--runs 5]`

A fresh database per target (kartoteka_bench_kpi / var/bench-kpi.sqlite3): 50 operators, 5
queues and N inbound calls over D days written straight to the table (COPY on PostgreSQL):
80 % answered (wait exponential, mean 15 s; talk mean 180 s), 15 % abandoned, 5 % missed, from a
pool of N / 5 numbers (so FCR finds repeats), each handled call with its on-call and after-call
status rows (≈ 2 N status rows).

Timed, `--runs` times after a warm-up, for an administrator (every call):
- the KPI report (`callcenter.kpi.report`) over the last 30 days and over all D days, per queue,
  per operator and per day (and per hour over 7 days);
- the same call aggregation per queue (the counts, the wait and talk sums, FCR) twice: as the
  report builds it (`call_figures` + `resolved_figures`: FCR by window functions) and as a
  hand-written SQL statement (FCR by a correlated NOT EXISTS per call, the obvious way) through
  a plain cursor — the yardstick; what the report adds beyond it is ACW, occupancy and labels.

Prints a Markdown table; writes var/bench-kpi-results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import time
from typing import Any

from bench.databases import Target
from bench.runner import measure_targets, publish, run_worker, target_parser

OPERATORS = 50
QUEUES = ("sales", "support", "billing", "vip", "retention")
BATCH = 50_000

RAW_PG = """
SELECT queue,
  count(*) FILTER (WHERE answered_at IS NOT NULL),
  count(*) FILTER (WHERE answered_at <= started_at + interval '20 seconds'),
  count(*) FILTER (WHERE answered_at IS NULL AND status IN ('missed', 'abandoned')),
  count(*) FILTER (WHERE answered_at IS NULL AND status IN ('missed', 'abandoned')
                   AND ended_at < started_at + interval '5 seconds'),
  sum(answered_at - started_at) FILTER (WHERE answered_at IS NOT NULL),
  count(*) FILTER (WHERE answered_at IS NOT NULL AND ended_at IS NOT NULL),
  sum(ended_at - answered_at) FILTER (WHERE answered_at IS NOT NULL AND ended_at IS NOT NULL),
  count(*) FILTER (WHERE answered_at IS NOT NULL AND ended_at IS NOT NULL
                   AND (client_id IS NOT NULL OR caller_e164 <> '')
                   AND NOT EXISTS (SELECT 1 FROM callcenter_call r WHERE r.direction = 'in'
                     AND r.caller_e164 = c.caller_e164 AND c.caller_e164 <> ''
                     AND r.started_at > c.started_at
                     AND r.started_at <= c.started_at + interval '7 days'))
FROM callcenter_call c
WHERE direction = 'in' AND started_at >= %s AND started_at < %s
GROUP BY queue
"""
# SQLite stores ISO text: julianday() differences in days, times 86400.
RAW_SQLITE = """
SELECT queue,
  sum(answered_at IS NOT NULL),
  sum(answered_at IS NOT NULL AND (julianday(answered_at) - julianday(started_at)) * 86400 <= 20),
  sum(answered_at IS NULL AND status IN ('missed', 'abandoned')),
  sum(answered_at IS NULL AND status IN ('missed', 'abandoned')
      AND (julianday(ended_at) - julianday(started_at)) * 86400 < 5),
  sum(CASE WHEN answered_at IS NOT NULL
      THEN (julianday(answered_at) - julianday(started_at)) * 86400 END),
  sum(answered_at IS NOT NULL AND ended_at IS NOT NULL),
  sum(CASE WHEN answered_at IS NOT NULL AND ended_at IS NOT NULL
      THEN (julianday(ended_at) - julianday(answered_at)) * 86400 END),
  sum(answered_at IS NOT NULL AND ended_at IS NOT NULL AND caller_e164 <> ''
      AND NOT EXISTS (SELECT 1 FROM callcenter_call r WHERE r.direction = 'in'
        AND r.caller_e164 = c.caller_e164 AND r.started_at > c.started_at
        AND r.started_at <= strftime('%Y-%m-%d %H:%M:%f', c.started_at, '+7 days')))
FROM callcenter_call c
WHERE direction = 'in' AND started_at >= %s AND started_at < %s
GROUP BY queue
"""


def load(calls: int, days: int, seed: int = 7) -> dict[str, float]:
    """Operators and calls with their status rows, written without model instances."""
    from django.db import transaction
    from django.utils import timezone

    from kartoteka.accounts.models import User
    from kartoteka.callcenter.models import Call, Operator, OperatorStatusChange
    from kartoteka.core.bulk import table, write_rows

    r = random.Random(seed)
    now = timezone.now()
    operators = []
    for i in range(OPERATORS):
        user = User.objects.create_user(f"op{i}", f"op{i}@example.com", None)
        operators.append(Operator.objects.create(user=user, extension=f"{100 + i}", since=now))
    call_cols = [
        "created_at", "updated_at", "version", "provider", "call_id", "direction", "status",
        "caller", "caller_e164", "callee", "callee_e164", "extension", "queue", "ivr",
        "started_at", "answered_at", "ended_at", "end_reason", "summary", "recording_url",
        "operator_id", "user_id",
    ]  # fmt: skip
    status_cols = ["operator_id", "status", "started_at", "ended_at", "source", "reason", "call_id"]
    began = time.perf_counter()
    first = now - dt.timedelta(days=days)
    span = days * 86400
    handled: list[tuple[int, Operator, dt.datetime, dt.datetime, float]] = []
    with transaction.atomic():
        rows = []
        for n in range(calls):
            start = first + dt.timedelta(seconds=r.random() * span)
            number = f"+7916{r.randrange(calls // 5 + 1):07d}"
            op = operators[r.randrange(OPERATORS)]
            kind = r.random()
            wait = r.expovariate(1 / 15)
            answered = ended = None
            status = "ended"
            who: tuple[int | None, int | None] = (None, None)
            if kind < 0.8:
                answered = start + dt.timedelta(seconds=wait)
                ended = answered + dt.timedelta(seconds=r.expovariate(1 / 180))
                who = (op.pk, op.user_id)
            else:
                ended = start + dt.timedelta(seconds=wait * 3)
                status = "abandoned" if kind < 0.95 else "missed"
            rows.append(
                (now, now, 1, "bench", f"b{n}", "in", status, number, number, "", "", "",
                 QUEUES[n % len(QUEUES)], "{}", start, answered, ended, "", "", "", *who)
            )  # fmt: skip
            if answered is not None and ended is not None:
                handled.append((n, op, answered, ended, r.expovariate(1 / 30)))
            if len(rows) == BATCH:
                write_rows(table(Call), call_cols, rows)
                rows = []
        write_rows(table(Call), call_cols, rows)
    calls_s = time.perf_counter() - began
    ids = dict(Call.objects.filter(provider="bench").values_list("call_id", "pk"))
    began = time.perf_counter()
    with transaction.atomic():
        rows = []
        for n, op, answered, ended, acw in handled:
            pk = ids[f"b{n}"]
            rows.append((op.pk, "on_call", answered, ended, "call", "", pk))
            acw_end = ended + dt.timedelta(seconds=acw)
            rows.append((op.pk, "after_call", ended, acw_end, "call", "", pk))
            if len(rows) >= BATCH:
                write_rows(table(OperatorStatusChange), status_cols, rows)
                rows = []
        write_rows(table(OperatorStatusChange), status_cols, rows)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"calls_s": round(calls_s, 1), "status_s": round(time.perf_counter() - began, 1)}


def _time(fn: Any, runs: int) -> dict[str, float]:
    fn()  # warm-up
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - began) * 1000)
    return {"p50_ms": round(statistics.median(timings), 1), "max_ms": round(max(timings), 1)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from kartoteka.accounts.models import User
    from kartoteka.callcenter import kpi

    loaded = load(args.calls, args.days)
    admin = User.objects.create_superuser("bench-admin", "bench@example.com", None)
    today = timezone.localdate()
    cases = [
        ("30 days per queue", 30, "queue", "day"),
        ("30 days per operator", 30, "operator", "day"),
        ("30 days per day", 30, "interval", "day"),
        ("7 days per hour", 7, "interval", "hour"),
        (f"{args.days} days per queue", args.days, "queue", "day"),
        (f"{args.days} days per operator", args.days, "operator", "day"),
    ]
    raw_sql = RAW_PG if connection.vendor == "postgresql" else RAW_SQLITE
    out = []
    for label, days, group, interval in cases:
        p = kpi.params(today - dt.timedelta(days=days - 1), today, group=group, interval=interval)
        report = _time(lambda p=p: kpi.report(admin, p), args.runs)
        row = {"case": label, "days": days, "report": report}
        if group == "queue":
            start, end = (p.start, p.end)
            if connection.vendor != "postgresql":
                start, end = (start.astimezone(dt.UTC).isoformat(sep=" ")[:26],
                              end.astimezone(dt.UTC).isoformat(sep=" ")[:26])  # fmt: skip

            def raw(start: Any = start, end: Any = end) -> None:
                with connection.cursor() as cursor:
                    cursor.execute(raw_sql, [start, end])
                    cursor.fetchall()

            row["raw"] = _time(raw, args.runs)

            def orm(p: kpi.Params = p) -> None:
                calls = kpi.inbound(admin, p)
                list(kpi.call_figures(calls, p))
                list(kpi.resolved_figures(calls, p))

            row["orm_calls"] = _time(orm, args.runs)
        out.append(row)
    return {"vendor": connection.vendor, "calls": args.calls, "days": args.days, **loaded,
            "cases": out}  # fmt: skip


def _worker(args: argparse.Namespace) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(json.dumps(run(args), default=str))


def _run(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    command = ["-m", "bench.kpi", "--worker", "--calls", str(args.calls)]
    command += ["--days", str(args.days), "--runs", str(args.runs)]
    return run_worker(target, command)


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | calls | report | report p50 ms | max ms | ORM calls + FCR p50 ms "
        "| raw SQL p50 ms |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        for c in r["cases"]:
            orm = c.get("orm_calls", {}).get("p50_ms", "")
            raw = c.get("raw", {}).get("p50_ms", "")
            lines.append(
                f"| {r['label']} | {r['calls']:,} | {c['case']} | {c['report']['p50_ms']} "
                f"| {c['report']['max_ms']} | {orm} | {raw} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = target_parser("kpi", __doc__, "kpi")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    results = measure_targets(args, _worker, _run)
    if results is None:
        return
    publish("kpi", "KPI bench", markdown(results), results)


if __name__ == "__main__":
    main()
