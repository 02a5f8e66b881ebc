"""Reads of the planner, always narrowed by the permissions engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client
from kartoteka.core import permissions
from kartoteka.core.permissions import Action, AnyUser
from kartoteka.planner import absence
from kartoteka.planner.models import MAX_DURATION, Task, TaskChange
from kartoteka.sales.models import Deal

ACTIVE = Q(status__in=Task.ACTIVE)
# The list's quick filters ("when"): each maps to one condition on due_at.
WHEN = ("today", "overdue", "week", "later", "undated")


def visible_tasks(user: AnyUser, action: Action = Action.VIEW) -> QuerySet[Task]:
    return permissions.scope(user, action, Task.objects.all())


def overdue(now: dt.datetime | None = None) -> Q:
    """Tasks still to do whose due time has passed: computed, never stored."""
    return ACTIVE & Q(due_at__lt=now or timezone.now())


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time()))
    return start, start + dt.timedelta(days=1)


def when(tasks: QuerySet[Task], name: str, now: dt.datetime | None = None) -> QuerySet[Task]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    start, end = day_bounds(today)
    if name == "today":
        return tasks.filter(ACTIVE, due_at__gte=start, due_at__lt=end)
    if name == "overdue":
        return tasks.filter(overdue(now))
    if name == "week":
        monday = today - dt.timedelta(days=today.weekday())
        week_start, _ = day_bounds(monday)
        return tasks.filter(
            ACTIVE, due_at__gte=week_start, due_at__lt=week_start + dt.timedelta(days=7)
        )
    if name == "later":
        return tasks.filter(ACTIVE, due_at__gte=end)
    if name == "undated":
        return tasks.filter(ACTIVE, due_at__isnull=True)
    return tasks


def filter_tasks(
    tasks: QuerySet[Task],
    *,
    when_: str = "",
    status: str = "",
    kind: str = "",
    assignee: int | None = None,
    client: int | None = None,
    deal: int | None = None,
) -> QuerySet[Task]:
    """The list's filters, each mapped to one field (request keys never reach the ORM)."""
    tasks = when(tasks, when_) if when_ in WHEN else tasks
    if status in Task.Status.values:
        tasks = tasks.filter(status=status)
    elif status == "active":
        tasks = tasks.filter(ACTIVE)
    if kind in Task.Kind.values:
        tasks = tasks.filter(kind=kind)
    if assignee is not None:
        tasks = tasks.filter(assignee_id=assignee)
    if client is not None:
        tasks = tasks.filter(pk__in=_linked(client=client))
    if deal is not None:
        tasks = tasks.filter(pk__in=_linked(deal=deal))
    return tasks


def _linked(**target: int) -> Any:
    from kartoteka.planner.models import TaskLink

    return TaskLink.objects.filter(**{f"{k}_id": v for k, v in target.items()}).values("task_id")


def for_list(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return tasks.select_related("assignee").only(
        "id",
        "kind",
        "title",
        "status",
        "priority",
        "due_at",
        "duration_minutes",
        "version",
        "assignee_id",
        "created_by_id",
        "assignee__username",
        "assignee__first_name",
        "assignee__last_name",
    )


def tasks_of(user: AnyUser, *, client: Client | None = None, deal: Deal | None = None) -> Any:
    """A card's active tasks, soonest first."""
    rows = visible_tasks(user).filter(ACTIVE)
    if client is not None:
        rows = rows.filter(pk__in=_linked(client=client.pk))
    if deal is not None:
        rows = rows.filter(pk__in=_linked(deal=deal.pk))
    return for_list(rows).order_by("due_at", "id")


def history(task: Task) -> QuerySet[TaskChange]:
    return TaskChange.objects.filter(task=task).select_related("actor")


def users_in_scope(user: User) -> QuerySet[User]:
    """Whose calendars `user` may open: everyone with an `all` scope, else their teams."""
    level = permissions.scope_of(user, "task", Action.VIEW)
    users = User.objects.filter(is_active=True).order_by("first_name", "username")
    if level is permissions.Scope.ALL:
        return users
    if level is permissions.Scope.TEAM:
        return users.filter(pk__in=permissions.rights(user).team_ids)
    return users.filter(pk=user.pk)


def calendar(
    user: AnyUser, start: dt.datetime, end: dt.datetime, assignees: list[int]
) -> QuerySet[Task]:
    """Visible dated tasks of `assignees` that overlap [start, end)."""
    # A task starting before `start` may still overlap it by up to the longest duration.
    longest = dt.timedelta(minutes=MAX_DURATION)
    # A meeting shows in its participants' calendars as well as its assignee's.
    whose = Q(assignee_id__in=assignees) | absence.invited_to(assignees)
    rows = visible_tasks(user).filter(whose, due_at__lt=end, due_at__gte=start - longest)
    return for_list(rows.exclude(status=Task.Status.CANCELLED)).order_by("due_at", "id")
