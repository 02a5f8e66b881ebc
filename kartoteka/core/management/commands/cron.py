"""`kartoteka cron [--loop]`: enqueue the periodic jobs that are due.

Run it from the system's cron every few minutes, or with --loop beside the worker
(`kartoteka serve` does that in embedded mode). A job runs at most once per period,
judged by when it was last enqueued in the database task queue. With --loop it also ticks
every --tick seconds (5) for what cannot wait ten minutes: due reminders are handed to the
workers (see kartoteka/planner/tasks.py).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kartoteka.callcenter import tasks as callcenter_tasks
from kartoteka.clients import tasks as client_tasks
from kartoteka.dedup import tasks as dedup_tasks
from kartoteka.planner import tasks as planner_tasks
from kartoteka.segments import tasks as segment_tasks

# name -> (task, period)
JOBS: dict[str, tuple[Any, dt.timedelta]] = {
    "retention": (client_tasks.apply_retention, dt.timedelta(days=1)),
    "realtime_prune": (planner_tasks.prune_realtime, dt.timedelta(hours=1)),
    "contact_rules": (planner_tasks.create_rule_tasks, dt.timedelta(days=1)),
    "dedup_scan": (dedup_tasks.scan, dt.timedelta(days=1)),
    "analytics": (segment_tasks.recompute_classes, dt.timedelta(days=1)),
}
# Checked on every tick of --loop: callables that enqueue work when there is some.
TICKS: list[Callable[[], Any]] = [
    planner_tasks.enqueue_reminders_if_due,
    callcenter_tasks.expire_after_call_work_if_due,
    callcenter_tasks.expire_reservations_if_due,
]


def due(task: Any, period: dt.timedelta, now: dt.datetime) -> bool:
    last = DBTaskResult.objects.filter(task_path=task.module_path).order_by("-enqueued_at").first()
    return last is None or last.enqueued_at <= now - period


def run_due(now: dt.datetime | None = None, say: Callable[[str], Any] = print) -> list[str]:
    now = now or timezone.now()
    started = []
    for name, (task, period) in JOBS.items():
        if due(task, period, now):
            task.enqueue()
            started.append(name)
            say(f"enqueued {name}")
    return started


class Command(BaseCommand):
    help = "Enqueue periodic jobs that are due (retention, …)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop", action="store_true", help="keep checking every --interval seconds"
        )
        parser.add_argument("--interval", type=int, default=600)
        parser.add_argument("--tick", type=float, default=5.0, help="seconds between fast ticks")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            while True:
                run_due(say=self.stdout.write)
                if not options["loop"]:
                    return
                ends = time.monotonic() + options["interval"]
                while time.monotonic() < ends:
                    for tick in TICKS:
                        tick()
                    time.sleep(max(0.5, options["tick"]))
        except KeyboardInterrupt:  # Ctrl-C in `make run`: stop quietly
            return
