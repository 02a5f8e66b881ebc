"""The calendar's events: a user's, a colleague's or a team's dated tasks in a range."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients.schemas import user_out
from kartoteka.core import permissions
from kartoteka.core.permissions import Action
from kartoteka.planner import queries
from kartoteka.planner.schemas import is_overdue

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
    if end <= start or (end - start).days > MAX_RANGE_DAYS:
        raise RangeError(
            "end",
            _("Send an end after the start, at most %(n)d days later.") % {"n": MAX_RANGE_DAYS},
        )
    out = []
    for task in queries.calendar(me, start, end, calendar_users(me, who)):
        ends = task.ends_at
        if task.due_at is None or ends is None or ends <= start:
            continue
        out.append(
            {
                "id": task.pk,
                "title": task.title,
                "start": task.due_at,
                "end": ends,
                "kind": task.kind,
                "status": task.status,
                "assignee": user_out(task.assignee),
                "version": task.version,
                "editable": task.is_active and permissions.can(me, Action.EDIT, task),
                "overdue": is_overdue(task),
            }
        )
    return out
