"""`python -m bench.planner [--reminders 100000] [--events 5000] [--pg-url URL]`: the planner.

On PostgreSQL (a fresh database; two workers need a real server):
- 100,000 reminders falling due at once, delivered by two worker processes running
  reminders.deliver_due() side by side: wall time, and none twice, none lost (counted).
- the calendar's week view of a team of 50 with 5,000 events (agenda.events as the team's
  head), p50/p95 over 50 runs, against the same SQL replayed raw.
Writes var/bench-planner-results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import statistics
import time
from typing import Any

from bench.databases import VAR, ensure_postgres

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/kartoteka_planner_bench"


def setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    import django

    django.setup()


def load(reminders: int, events: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from kartoteka.accounts.models import Role, Team, User
    from kartoteka.planner.models import Reminder, Task

    call_command("migrate", verbosity=0)
    manager = Role.objects.get(code="manager")
    users = User.objects.bulk_create(
        User(username=f"m{i}", first_name=f"M{i}", role=manager) for i in range(50)
    )
    head = User.objects.create(username="head", role=Role.objects.get(code="head"))
    team = Team.objects.create(name="Bench", head=head)
    team.members.add(*users)
    now = timezone.now()
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    week = timezone.make_aware(dt.datetime.combine(monday, dt.time(8)))
    with transaction.atomic():
        Task.objects.bulk_create(
            (
                Task(
                    title=f"event {i}",
                    kind="meeting",
                    assignee=users[i % 50],
                    created_by=users[i % 50],
                    due_at=week + dt.timedelta(minutes=(i * 17) % (7 * 24 * 60)),
                    duration_minutes=30,
                )
                for i in range(events)
            ),
            batch_size=2000,
        )
        # Reminders: one per (task, user) pair, on tasks due in ten minutes.
        per_task = 50
        carriers = Task.objects.bulk_create(
            (
                Task(title=f"due {i}", assignee=users[0], due_at=now + dt.timedelta(minutes=10))
                for i in range(reminders // per_task)
            ),
            batch_size=2000,
        )
        Reminder.objects.bulk_create(
            (
                Reminder(task=t, user=u, remind_at=now - dt.timedelta(minutes=1))
                for t in carriers
                for u in users[:per_task]
            ),
            batch_size=5000,
        )
    return {"head": head.pk, "week": week.isoformat()}


def _worker(url: str, out: Any) -> None:
    setup(url)
    from kartoteka.planner import reminders

    out.put(reminders.deliver_due())


def deliver(url: str) -> dict[str, Any]:
    from django.db import connections

    from kartoteka.core.models import Notification
    from kartoteka.planner.models import Reminder

    due = Reminder.objects.filter(sent_at__isnull=True).count()
    connections.close_all()
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [context.Process(target=_worker, args=(url, out)) for _ in range(2)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    counts = [out.get() for _ in workers]
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    links = Notification.objects.values("link", "user_id").distinct().count()
    return {
        "reminders": due,
        "seconds": round(seconds, 2),
        "per_worker": counts,
        "notifications": Notification.objects.count(),
        "distinct_notifications": links,
        "left_unsent": Reminder.objects.filter(sent_at__isnull=True).count(),
    }


def _timed(call: Any, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return round(statistics.median(samples), 2), round(samples[int(len(samples) * 0.95) - 1], 2)


def week_view(head_id: int, week: str) -> dict[str, Any]:
    from django.db import connection

    from kartoteka.accounts.models import User
    from kartoteka.core import permissions
    from kartoteka.planner import agenda

    start = dt.datetime.fromisoformat(week).replace(hour=0)
    end = start + dt.timedelta(days=7)

    def page() -> int:
        head = User.objects.get(pk=head_id)  # rights read afresh, as in a request
        return len(agenda.events(head, start, end, "team"))

    count = page()
    head = User.objects.get(pk=head_id)
    users = agenda.calendar_users(head, "team")
    sql, params = agenda.rows(head, start, end, "team").query.sql_with_params()

    def raw() -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return len(cursor.fetchall())

    raw()
    permissions.forget(head)
    p50, p95 = _timed(page, 50)
    raw50, raw95 = _timed(raw, 50)
    return {
        "events": count,
        "team": len(users),
        "p50_ms": p50,
        "p95_ms": p95,
        "raw_p50_ms": raw50,
        "raw_p95_ms": raw95,
        "ratio": round(p50 / raw50, 1) if raw50 else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--pg-url", default=os.environ.get("PLANNER_BENCH_PG", DEFAULT_PG))
    args = parser.parse_args()
    ensure_postgres(args.pg_url, fresh=True)
    setup(args.pg_url)
    loaded = load(args.reminders, args.events)
    results = {"delivery": deliver(args.pg_url), "week": week_view(loaded["head"], loaded["week"])}
    VAR.mkdir(exist_ok=True)
    (VAR / "bench-planner-results.json").write_text(json.dumps(results, indent=2))
    d, w = results["delivery"], results["week"]
    delivered = f"{d['notifications']} of {d['reminders']} in {d['seconds']} s"
    checks = f"per worker {d['per_worker']}, distinct {d['distinct_notifications']}"
    view = f"p50 {w['p50_ms']} ms, p95 {w['p95_ms']} ms"
    baseline = f"raw SQL p50 {w['raw_p50_ms']} ms (x{w['ratio']})"
    print("| figure | value |\n|---|---|")
    print(f"| reminders by 2 workers | {delivered} ({checks}, left {d['left_unsent']}) |")
    print(f"| week view, team of {w['team']}, {w['events']} events | {view}; {baseline} |")


if __name__ == "__main__":
    main()
