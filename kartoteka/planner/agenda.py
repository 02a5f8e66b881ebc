"""The calendar's events: a user's, a colleague's or a team's dated tasks in a range."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, QuerySet, Value
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.core import permissions
from kartoteka.core.permissions import Action
from kartoteka.planner import queries
from kartoteka.planner.models import Task

MAX_RANGE_DAYS = 62


class RangeError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def calendar_users(me: User, who: str) -> list[int]:
    """`me`, `team` (the members of the user's teams) or one user id (within the user's scope)."""
    allowed = queries.users_in_scope(me)
    if who == "me":
        return [me.pk]
    if who == "team":
        mates = permissions.rights(me).team_ids or frozenset({me.pk})
        return list(allowed.filter(pk__in=mates).values_list("pk", flat=True))
    if not who.isdigit() or len(who) > 18 or not allowed.filter(pk=int(who)).exists():
        raise RangeError("user", _("Send me, team or the id of a user whose calendar you may see."))
    return [int(who)]


def events(me: User, start: dt.datetime, end: dt.datetime, who: str) -> list[dict[str, Any]]:
    """The events as JSON-ready values (times as ISO 8601 strings): a team's week is thousands
    of them, so each person's entry is built once and no encoder hook runs per value."""
    if end <= start or (end - start).days > MAX_RANGE_DAYS:
        raise RangeError(
            "end",
            _("Send an end after the start, at most %(n)d days later.") % {"n": MAX_RANGE_DAYS},
        )
    # Compared and formatted as naive UTC times: cheaper per row than aware ones.
    now, since = _naive_utc(timezone.now()), _naive_utc(start)
    people: dict[int | None, dict[str, Any] | None] = {None: None}
    out = []
    for pk, title, stored, minutes, kind, status, version, *person, edit in _plain(
        rows(me, start, end, who)
    ):
        due = _naive_utc(stored)
        ends = due + dt.timedelta(minutes=minutes)
        if ends <= since:
            continue
        if person[0] not in people:
            people[person[0]] = _person(*person)
        out.append(
            {
                "id": pk,
                "title": title,
                "start": iso(due),
                "end": iso(ends),
                "kind": kind,
                "status": status,
                "assignee": people[person[0]],
                "version": version,
                "editable": bool(edit),
                "overdue": status in Task.ACTIVE and due < now,
            }
        )
    return out


def _plain(query: QuerySet[Task, Any]) -> list[tuple[Any, ...]]:
    """The query's rows straight from the cursor: Django's per-value converters cost more than
    the query itself over a team's week."""
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _naive_utc(value: dt.datetime | str) -> dt.datetime:
    """A naive UTC time from the cursor (SQLite's gives naive UTC times or text, psycopg
    aware ones)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def as_json(items: list[dict[str, Any]]) -> HttpResponse:
    """`{"items": [...]}` encoded once, by the C encoder (no per-value hook)."""
    return HttpResponse(json.dumps({"items": items}), content_type="application/json")


def iso(moment: dt.datetime) -> str:
    """A naive UTC time as Django's JSON encoder writes an aware one: milliseconds, `Z`."""
    text = moment.isoformat()
    return (text[:23] if moment.microsecond else text) + "Z"


COLUMNS = (
    "id",
    "title",
    "due_at",
    "duration_minutes",
    "kind",
    "status",
    "version",
    "assignee_id",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "editable",
)


def rows(me: User, start: dt.datetime, end: dt.datetime, who: str) -> QuerySet[Task, Any]:
    """Plain rows, not model instances, with "may edit" computed by the database in the same
    query: a team's week is thousands of events."""
    may_edit = permissions.condition(me, Action.EDIT, Task)
    editable = (
        Value(False)
        if may_edit is None
        else ExpressionWrapper(queries.ACTIVE & may_edit, output_field=BooleanField())
    )
    tasks = queries.calendar(me, start, end, calendar_users(me, who))
    return tasks.annotate(editable=editable).values_list(*COLUMNS)


def _person(pk: int | None, login: str, first: str, last: str) -> dict[str, Any] | None:
    """The same shape as clients.schemas.user_out, from columns."""
    if pk is None:
        return None
    return {"id": pk, "username": login, "name": f"{first} {last}".strip() or login}
