"""The tasks and calendar API's schemas and how a task is shown."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Field, Schema

from kartoteka.clients.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    VERSION_HELP,
    Clean,
    Strict,
    UserOut,
    enum,
    user_out,
)
from kartoteka.planner.models import MAX_DURATION, Task, TaskChange

ID = Field(None, ge=1, le=2**62)
IDS = Field(None, max_length=50)


class TaskFields(Strict):
    kind: str | None = Field(None, max_length=10, json_schema_extra=enum(Task.Kind.values))
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=20_000)
    assignee_id: int | None = ID
    due_at: dt.datetime | None = None
    duration_minutes: int | None = Field(None, ge=1, le=MAX_DURATION)
    priority: int | None = Field(None, ge=1, le=3, description="1 low, 2 normal, 3 high")
    remind_minutes: int | None = Field(None, ge=0, le=60 * 24 * 60)
    remind_by_email: bool | None = None
    repeat: str | None = Field(None, max_length=8, json_schema_extra=enum(Task.Repeat.values))
    repeat_interval: int | None = Field(None, ge=1, le=365)
    repeat_until: dt.date | None = None
    repeat_count: int | None = Field(None, ge=1, le=1000)
    client_ids: list[int] | None = IDS
    deal_ids: list[int] | None = IDS
    participant_ids: list[int] | None = IDS


class TaskIn(TaskFields):
    title: str = Field(max_length=200)


class TaskPatch(TaskFields):
    version: int | None = Field(None, ge=1, description=VERSION_HELP)


class Versioned(Strict):
    version: int | None = Field(None, ge=1, description=VERSION_HELP)


class DoneIn(Versioned):
    result: str = Field("", max_length=20_000)


class CancelIn(Versioned):
    reason: str = Field("", max_length=500)


class PostponeIn(Versioned):
    due_at: dt.datetime
    reason: str = Field(max_length=500)


class TaskQuery(Clean):
    when: str | None = Field(
        None,
        max_length=10,
        json_schema_extra=enum(["today", "overdue", "week", "later", "undated"]),
    )
    status: str | None = Field(
        None, max_length=10, json_schema_extra=enum([*Task.Status.values, "active"])
    )
    kind: str | None = Field(None, max_length=10, json_schema_extra=enum(Task.Kind.values))
    assignee: str | None = Field(None, max_length=20, description="A user id or `me`.")
    client_id: int | None = ID
    deal_id: int | None = ID
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class CalendarQuery(Clean):
    start: dt.datetime
    end: dt.datetime
    user: str = Field("me", max_length=20, description="`me`, `team` or a user id.")


class LinkOut(Schema):
    client_id: int | None
    deal_id: int | None


class ChangeOut(Schema):
    verb: str
    at: dt.datetime
    actor: UserOut | None
    from_due: dt.datetime | None
    to_due: dt.datetime | None
    reason: str


class TaskOut(Schema):
    id: int
    kind: str
    title: str
    description: str
    status: str
    priority: int
    assignee: UserOut | None
    created_by: UserOut | None
    due_at: dt.datetime | None
    duration_minutes: int
    overdue: bool
    result: str
    closed_at: dt.datetime | None
    remind_minutes: int | None
    remind_by_email: bool
    repeat: str
    repeat_interval: int
    repeat_until: dt.date | None
    repeat_count: int | None
    occurrence: int
    links: list[LinkOut]
    participant_ids: list[int]
    version: int
    history: list[ChangeOut] | None = None


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class EventOut(Schema):
    id: int
    title: str
    start: dt.datetime
    end: dt.datetime
    kind: str
    status: str
    assignee: UserOut | None
    version: int
    editable: bool
    overdue: bool


class EventList(Schema):
    items: list[EventOut]


def is_overdue(task: Task, now: dt.datetime | None = None) -> bool:
    return task.is_active and task.due_at is not None and task.due_at < (now or timezone.now())


def change_out(change: TaskChange) -> dict[str, Any]:
    return {
        "verb": change.verb,
        "at": change.at,
        "actor": user_out(change.actor),
        "from_due": change.from_due,
        "to_due": change.to_due,
        "reason": change.reason,
    }


def task_out(task: Task, history: list[TaskChange] | None = None) -> dict[str, Any]:
    plain = [
        "id",
        "kind",
        "title",
        "description",
        "status",
        "priority",
        "due_at",
        "duration_minutes",
        "result",
        "closed_at",
        "remind_minutes",
        "remind_by_email",
        "repeat",
        "repeat_interval",
        "repeat_until",
        "repeat_count",
        "occurrence",
        "version",
    ]
    out = {name: getattr(task, name) for name in plain}
    out.update(
        assignee=user_out(task.assignee),
        created_by=user_out(task.created_by),
        overdue=is_overdue(task),
        links=[{"client_id": k.client_id, "deal_id": k.deal_id} for k in task.links.all()],
        participant_ids=[p.pk for p in task.participants.all()],
    )
    if history is not None:
        out["history"] = [change_out(c) for c in history]
    return out
