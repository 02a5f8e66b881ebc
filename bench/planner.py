"""`python -m bench.planner [--db sqlite,postgresql] [--reminders 100000] [--events 5000]`.

The planner's two figures, on a fresh database per target (SQLite file, PostgreSQL database):

- **Reminders**: N tasks whose reminders (one each, to 50 users) fall due at once, delivered by
  two worker processes running the task worker's job (`planner.tasks.deliver_reminders`) side
  by side, started together after Django is set up. Wall time from the start to the last
  worker's return; then counted: notifications written, distinct (user, task) among them, live
  events written, reminders left unsent — none twice, none lost. The raw baseline does the same
  work (claim a batch, write its notifications and live events with the unread count) in plain
  SQL, also in two processes, after the reminders are armed again.
- **Week view**: a team of 50 (the head asks for `user=team`) with E events in the week (one in
  ten a meeting with three participants), plus tasks in the weeks around it and the reminder
  tasks a month earlier. Timed over `--runs`: the calendar's JSON feed as the browser calls it
  (`/tasks/calendar/events/`, session, middleware and JSON encoding included), the API's
  `/api/v1/calendar`, and the same SQL replayed through a DB-API cursor (the baseline).

Prints a Markdown table; writes var/bench-planner-results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import secrets
import time
from pathlib import Path
from typing import Any

from bench.databases import VAR, Target
from bench.runner import each_target, publish, run_worker

TEAM = 50
AROUND = 20_000  # tasks of the same team in the other weeks


def _progress(message: str) -> None:
    """A line in var/bench-planner-progress.log (the worker's stdout is its JSON answer)."""
    with (VAR / "bench-planner-progress.log").open("a") as out:
        out.write(f"{time.strftime('%H:%M:%S')} {os.environ.get('DATABASE_URL')}: {message}\n")


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    django.setup()


# --- data -------------------------------------------------------------------------------------


def load(reminders: int, events: int) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from kartoteka.accounts.models import Role, Team, User
    from kartoteka.planner.models import Reminder, Task

    manager = Role.objects.get(code="manager")
    users = User.objects.bulk_create(
        User(username=f"m{i:02}", first_name=f"M{i:02}", role=manager, email=f"m{i}@example.com")
        for i in range(TEAM)
    )
    head = User.objects.create(username="head", role=Role.objects.get(code="head"))
    team = Team.objects.create(name="Bench", head=head)
    team.members.add(*users)
    now = timezone.now()
    today = timezone.localdate()
    # The measured week: four weeks ahead, clear of the reminder tasks (due in ten minutes).
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=4)
    week = timezone.make_aware(dt.datetime.combine(monday, dt.time()))
    minutes = 7 * 24 * 60
    with transaction.atomic():
        in_week = Task.objects.bulk_create(
            (
                Task(
                    title=f"event {i}",
                    kind="meeting" if i % 10 == 0 else "call",
                    assignee=users[i % TEAM],
                    created_by=users[i % TEAM],
                    due_at=week + dt.timedelta(minutes=(i * 17) % minutes),
                    duration_minutes=30 + 15 * (i % 4),
                )
                for i in range(events)
            ),
            batch_size=2000,
        )
        Task.participants.through.objects.bulk_create(
            Task.participants.through(task_id=t.pk, user_id=users[(i + k) % TEAM].pk)
            for i, t in enumerate(in_week)
            if t.kind == "meeting"
            for k in (1, 2, 3)
        )
        # The same team's other weeks, half a year either side of the measured one.
        Task.objects.bulk_create(
            (
                Task(
                    title=f"other {i}",
                    assignee=users[i % TEAM],
                    created_by=users[i % TEAM],
                    due_at=week
                    + dt.timedelta(weeks=1 + i % 26) * (1 if i % 2 else -1)
                    + dt.timedelta(minutes=(i * 31) % minutes),
                )
                for i in range(AROUND)
            ),
            batch_size=2000,
        )
        carriers = Task.objects.bulk_create(
            (
                Task(
                    title=f"due {i}",
                    assignee=users[i % TEAM],
                    due_at=now + dt.timedelta(minutes=10),
                    remind_minutes=15,
                )
                for i in range(reminders)
            ),
            batch_size=2000,
        )
        Reminder.objects.bulk_create(
            (
                Reminder(task=t, user_id=t.assignee_id, remind_at=now - dt.timedelta(minutes=5))
                for t in carriers
            ),
            batch_size=5000,
        )
    return {"head": head.pk, "week": week}


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


# --- reminders --------------------------------------------------------------------------------


def _orm_worker(start: Any, out: Any) -> None:
    _setup()
    from django.db import connection
    from django.urls import reverse

    from kartoteka.planner.tasks import deliver_reminders

    connection.ensure_connection()
    reverse("planner:task", args=[0])  # the URLconf loaded, as in a worker that has run before
    start.wait()
    began = time.perf_counter()
    delivered = deliver_reminders.call()
    out.put((delivered, time.perf_counter() - began))


def _sql(vendor: str) -> tuple[str, str, str]:
    """Claim a batch (returning its ids and users), write its notifications, write its live
    events with each user's unread count. The claimed ids and users are formatted in
    (integers read from the database), as the ORM passes them as parameters."""
    pg = vendor == "postgresql"
    lock = " FOR UPDATE SKIP LOCKED" if pg else ""
    claim = (
        "UPDATE planner_reminder SET sent_at = %s, claim = %s WHERE id IN (SELECT id FROM "
        "planner_reminder WHERE sent_at IS NULL AND remind_at <= %s ORDER BY remind_at, id "
        f"LIMIT %s{lock}) AND sent_at IS NULL RETURNING id, user_id"
    )
    notes = (
        "INSERT INTO core_notification (user_id, text, link, created_at) "
        "SELECT r.user_id, 'Reminder: ' || t.title, '/tasks/' || r.task_id || '/', %s "
        "FROM planner_reminder r JOIN planner_task t ON t.id = r.task_id "
        "WHERE r.id IN ({ids}) AND r.claim = %s"
    )
    obj = (
        "json_build_object('unread', u.n, 'text', 'Reminder: ' || t.title)::jsonb"
        if pg
        else ("json_object('unread', u.n, 'text', 'Reminder: ' || t.title)")
    )
    # The unread counts once per batch (MATERIALIZED), as the ORM reads them in a query of
    # their own: inlined, PostgreSQL re-counted them for every claimed row.
    live = (
        "WITH u AS MATERIALIZED (SELECT user_id, COUNT(*) AS n FROM core_notification "
        "WHERE read_at IS NULL AND user_id IN ({users}) GROUP BY user_id) "
        "INSERT INTO core_realtimeevent (user_id, event, data, created_at) "
        f"SELECT r.user_id, 'notification', {obj}, %s "
        "FROM planner_reminder r JOIN planner_task t ON t.id = r.task_id "
        "JOIN u ON u.user_id = r.user_id WHERE r.id IN ({ids}) AND r.claim = %s"
    )
    return claim, notes, live


def _raw_worker(start: Any, out: Any) -> None:
    """The same work in plain SQL: claim a batch, write its notifications and live events."""
    _setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from kartoteka.planner.reminders import BATCH

    claim, notes, live = _sql(connection.vendor)
    connection.ensure_connection()
    start.wait()
    began, delivered = time.perf_counter(), 0
    while True:
        now: Any = timezone.now()
        if connection.vendor == "sqlite":
            now = str(now.replace(tzinfo=None))
        token = secrets.token_hex(16)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(claim, [now, token, now, BATCH])
            claimed = cursor.fetchall()
            if not claimed:
                break
            delivered += len(claimed)
            ids = ",".join(str(int(row[0])) for row in claimed)
            users = ",".join(str(int(u)) for u in {row[1] for row in claimed})
            cursor.execute(notes.format(ids=ids), [now, token])
            cursor.execute(live.format(ids=ids, users=users), [now, token])
    out.put((delivered, time.perf_counter() - began))


def _two_workers(target: Any) -> dict[str, Any]:
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(3), context.Queue()
    workers = [context.Process(target=target, args=(start, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    results = [out.get() for _ in workers]
    seconds = time.perf_counter() - began
    for worker in workers:
        worker.join()
    return {
        "seconds": round(seconds, 2),
        "per_worker": [r[0] for r in results],
        "worker_seconds": [round(r[1], 2) for r in results],
    }


def _counted() -> dict[str, int]:
    from kartoteka.core.models import Notification, RealtimeEvent
    from kartoteka.planner.models import Reminder

    return {
        "notifications": Notification.objects.count(),
        "distinct": Notification.objects.values("user_id", "link").distinct().count(),
        "live_events": RealtimeEvent.objects.count(),
        "left_unsent": Reminder.objects.filter(sent_at__isnull=True).count(),
    }


def _rearm() -> None:
    from kartoteka.core.models import Notification, RealtimeEvent
    from kartoteka.planner.models import Reminder

    Reminder.objects.update(sent_at=None, claim="")
    Notification.objects.all().delete()
    RealtimeEvent.objects.all().delete()
    _analyze()


def deliver() -> dict[str, Any]:
    from kartoteka.planner.models import Reminder

    due = Reminder.objects.filter(sent_at__isnull=True).count()
    orm = _two_workers(_orm_worker) | _counted()
    _rearm()
    raw = _two_workers(_raw_worker) | _counted()
    ok = all(
        r["notifications"] == r["distinct"] == r["live_events"] == due
        and r["left_unsent"] == 0
        and sum(r["per_worker"]) == due
        for r in (orm, raw)
    )
    ratio = round(orm["seconds"] / raw["seconds"], 1) if raw["seconds"] else None
    return {
        "reminders": due,
        "orm": orm,
        "raw": raw,
        "exactly_once": ok,
        "ratio": ratio,
        "load_average": os.getloadavg(),
    }


# --- the week view ----------------------------------------------------------------------------


def _timed(call: Any, runs: int) -> dict[str, float]:
    from bench.pages import percentile

    call()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(percentile(samples, 0.5), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
    }


def week_view(head_id: int, week: dt.datetime, runs: int) -> dict[str, Any]:
    from django.db import connection

    from bench.worker import _signed_in
    from kartoteka.accounts.models import User
    from kartoteka.planner import agenda

    head = User.objects.get(pk=head_id)
    end = week + dt.timedelta(days=7)
    http = _signed_in(head)
    query = {"start": week.isoformat(), "end": end.isoformat(), "user": "team"}
    seen: list[str] = []

    def count(execute: Any, sql: str, *rest: Any) -> Any:
        seen.append(sql)
        return execute(sql, *rest)

    with connection.execute_wrapper(count):
        response = http.get("/tasks/calendar/events/", query)
    assert response.status_code == 200, response.content[:300]
    count = len(response.json()["items"])
    api = http.get("/api/v1/calendar", query)
    assert api.status_code == 200 and len(api.json()["items"]) == count, api.content[:300]
    sql, params = agenda.rows(head, week, end, "team").query.sql_with_params()

    def raw() -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return len(cursor.fetchall())

    page = _timed(lambda: http.get("/tasks/calendar/events/", query), runs)
    through_api = _timed(lambda: http.get("/api/v1/calendar", query), runs)
    baseline = _timed(raw, runs)
    return {
        "events": count,
        "rows_read": raw(),
        "team": len(agenda.calendar_users(head, "team")),
        "queries": len(seen),
        "runs": runs,
        "page": page,
        "api": through_api,
        "raw": baseline,
        "ratio": round(page["p50_ms"] / baseline["p50_ms"], 1) if baseline["p50_ms"] else None,
        "load_average": os.getloadavg(),
    }


# --- the driver -------------------------------------------------------------------------------


def _worker(args: argparse.Namespace) -> None:
    _setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    loaded = load(args.reminders, args.events)
    _analyze()
    load_seconds = round(time.perf_counter() - started, 1)
    _progress(f"loaded in {load_seconds} s")
    delivery = deliver()
    _progress(f"delivery {json.dumps(delivery)}")
    week = week_view(loaded["head"], loaded["week"], args.runs)
    _progress(f"week {json.dumps(week)}")
    results = {"load_seconds": load_seconds, "delivery": delivery, "week": week}
    print(json.dumps(results, default=str))


def _run(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    command = ["-m", "bench.planner", "--worker", "--reminders", str(args.reminders)]
    command += ["--events", str(args.events), "--runs", str(args.runs)]
    return run_worker(target, command, ALLOWED_HOSTS="testserver,localhost")


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | figure | measured | raw SQL baseline | ratio | target | met |",
        "|---|---|---|---|---:|---|---|",
    ]
    for r in results:
        d, w = r["delivery"], r["week"]
        orm, raw = d["orm"], d["raw"]
        once = "none twice, none lost" if d["exactly_once"] else "**COUNTS DIFFER**"
        met = "yes" if d["exactly_once"] and orm["seconds"] < 60 else "**no**"
        lines.append(
            f"| {r['label']} | {d['reminders']:,} reminders, 2 workers "
            f"| {orm['seconds']} s (per worker {orm['per_worker']}; {once}) "
            f"| {raw['seconds']} s | {d['ratio']}× | < 60 s | {met} |"
        )
        met = "yes" if w["page"]["p95_ms"] < 200 else "**no**"
        label = f"week view, team of {w['team']}, {w['events']:,} events"
        lines.append(
            f"| {r['label']} | {label} | p50 {w['page']['p50_ms']} ms, p95 "
            f"{w['page']['p95_ms']} ms ({w['queries']} queries; API p95 {w['api']['p95_ms']} ms) "
            f"| p50 {w['raw']['p50_ms']} ms, p95 {w['raw']['p95_ms']} ms | {w['ratio']}× "
            f"| p95 < 200 ms | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.planner", description=__doc__)
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--sqlite-path", type=Path, default=VAR / "bench-planner.sqlite3")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "PLANNER_BENCH_PG", "postgres://postgres@127.0.0.1:5432/kartoteka_planner_bench"
        ),
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args)
        return
    results = each_target(args.db, args.sqlite_path, args.pg_url, lambda t: _run(t, args))
    publish("planner", "Planner bench", markdown(results), results)


if __name__ == "__main__":
    main()
