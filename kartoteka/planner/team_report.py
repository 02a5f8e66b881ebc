"""The team report: per person, tasks done, overdue and postponed in a period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from kartoteka.accounts.models import User
from kartoteka.planner import queries
from kartoteka.planner.models import Task, TaskChange


def team_report(user: User, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Rows per assignee over [start, end] (days, inclusive), within what the user may see:
    done (closed in the period), overdue (due in the period, still to do, past due now) and
    postponed (postponements made in the period). Three grouped queries."""
    since, _unused = queries.day_bounds(start)
    _unused, until = queries.day_bounds(end)
    now = timezone.now()
    tasks = queries.visible_tasks(user)
    done = tasks.filter(status=Task.Status.DONE, closed_at__gte=since, closed_at__lt=until)
    overdue = tasks.filter(queries.overdue(now), due_at__gte=since, due_at__lt=until)
    postponed = TaskChange.objects.filter(
        verb=TaskChange.Verb.POSTPONED, at__gte=since, at__lt=until, task__in=tasks.values("pk")
    )
    counts: dict[int | None, dict[str, int]] = {}
    sources: tuple[tuple[str, QuerySet[Any], str], ...] = (
        ("done", done, "assignee"),
        ("overdue", overdue, "assignee"),
        ("postponed", postponed, "task__assignee"),
    )
    for name, rows, key in sources:
        for row in rows.order_by().values(key).annotate(n=Count("id")):
            counts.setdefault(row[key], {"done": 0, "overdue": 0, "postponed": 0})[name] = row["n"]
    people = {u.pk: u for u in User.objects.filter(pk__in=[k for k in counts if k is not None])}
    report = [
        {
            "user_id": pk,
            "name": (people[pk].get_full_name() or people[pk].username) if pk in people else "—",
            **values,
        }
        for pk, values in counts.items()
    ]
    return sorted(report, key=lambda r: (-r["overdue"], r["name"]))
