"""`kartoteka cron [--loop]`: enqueue the periodic jobs that are due.

Run it from the system's cron every few minutes, or with --loop beside the worker
(`kartoteka serve` does that in embedded mode). A job runs at most once per period,
judged by when it was last enqueued in the database task queue.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kartoteka.clients import tasks as client_tasks
from kartoteka.segments import tasks as segment_tasks

# name -> (task, period)
JOBS: dict[str, tuple[Any, dt.timedelta]] = {
    "retention": (client_tasks.apply_retention, dt.timedelta(days=1)),
    "analytics": (segment_tasks.recompute_classes, dt.timedelta(days=1)),
}


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

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            while True:
                run_due(say=self.stdout.write)
                if not options["loop"]:
                    return
                time.sleep(options["interval"])
        except KeyboardInterrupt:  # Ctrl-C in `make run`: stop quietly
            return
