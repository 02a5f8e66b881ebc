"""Absence and substitution: while a colleague is away, their substitute sees the colleague's
planned tasks and meetings and the clients behind them, and can take them over in bulk.

The extra visibility is registered with the permissions engine (`register_stand_in`), so
every list, card and API read of tasks and clients honours it in one place. The same hook lets
a meeting's participants see the meeting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.core import audit, permissions
from kartoteka.core.permissions import Action, Denied, Scope
from kartoteka.planner.models import Absence, Task, TaskLink

MAX_DAYS = 366


def current(on: dt.date | None = None) -> QuerySet[Absence]:
    day = on or timezone.localdate()
    return Absence.objects.filter(starts_on__lte=day, ends_on__gte=day)


def standing_in_for(user_id: int, on: dt.date | None = None) -> list[int]:
    """The users `user_id` stands in for today."""
    return list(current(on).filter(substitute_id=user_id).values_list("user_id", flat=True))


def invited_to(user_ids: list[int]) -> Q:
    """Tasks (meetings) whose participants include any of `user_ids`."""
    through = Task.participants.through.objects.filter(user_id__in=user_ids)
    return Q(pk__in=through.values("task_id"))


def planned_of(absent: list[int]) -> Q:
    """The planned work of `absent`: tasks still to do that they are assigned to, and the
    meetings still to come that they take part in."""
    return Q(status__in=Task.ACTIVE) & (Q(assignee_id__in=absent) | invited_to(absent))


def _task_rows(user_id: int) -> Q:
    """Beyond the role's scope, a user sees the meetings they are invited to, and the planned
    tasks and meetings of the colleagues they stand in for."""
    invited = invited_to([user_id])
    absent = standing_in_for(user_id)
    return invited | planned_of(absent) if absent else invited


def _client_rows(user_id: int) -> Q | None:
    absent = standing_in_for(user_id)
    if not absent:
        return None
    tasks = Task.objects.filter(planned_of(absent)).values("pk")
    behind = TaskLink.objects.filter(task__in=tasks, client__isnull=False).values("client_id")
    return Q(pk__in=behind)


def register() -> None:
    permissions.register_stand_in("task", _task_rows)
    permissions.register_stand_in("client", _client_rows)


def may_mark(actor: User, user: User) -> bool:
    """Oneself; within one's teams with a team-wide right to reassign tasks; anyone with an
    all-wide one (administrators too)."""
    if actor.pk == user.pk:
        return True
    level = permissions.scope_of(actor, "task", Action.REASSIGN)
    if level is Scope.ALL:
        return True
    return level is Scope.TEAM and user.pk in permissions.rights(actor).team_ids


def mark_absent(actor: User, fields: dict[str, Any]) -> Absence:
    user, substitute = fields.get("user"), fields.get("substitute")
    starts, ends = fields.get("starts_on"), fields.get("ends_on")
    errors: dict[str, list[str]] = {}
    if user is None:
        errors["user"] = [_("Choose who is away.")]
    elif not may_mark(actor, user):
        errors["user"] = [_("You may not mark this user absent.")]
    if substitute is None or not substitute.is_active:
        errors["substitute"] = [_("Choose an active substitute.")]
    elif user is not None and substitute.pk == user.pk:
        errors["substitute"] = [_("The substitute must be someone else.")]
    if starts is None or ends is None:
        errors["ends_on"] = [_("Give the first and the last day.")]
    elif ends < starts or (ends - starts).days > MAX_DAYS:
        errors["ends_on"] = [_("The last day must be after the first, within a year.")]
    if errors:
        raise ValidationError(errors)
    assert user is not None and substitute is not None and starts and ends
    with transaction.atomic():
        absence = Absence.objects.create(
            user=user,
            substitute=substitute,
            starts_on=starts,
            ends_on=ends,
            reason=str(fields.get("reason") or "")[:200],
            created_by=actor,
        )
        audit.record(actor, "create", absence, user=str(user), substitute=str(substitute))
    return absence


def end_absence(actor: User, absence: Absence) -> None:
    if not may_mark(actor, absence.user):
        raise Denied(Action.EDIT)
    with transaction.atomic():
        Absence.objects.filter(pk=absence.pk).delete()
        audit.record(actor, "delete", kind="absence", target_id=absence.pk)


def visible_absences(user: User) -> QuerySet[Absence]:
    """Absences the user marked, takes part in, or may manage."""
    rows = Absence.objects.select_related("user", "substitute")
    level = permissions.scope_of(user, "task", Action.REASSIGN)
    if level is Scope.ALL:
        return rows
    mine = Q(user=user) | Q(substitute=user) | Q(created_by=user)
    if level is Scope.TEAM:
        mine |= Q(user_id__in=permissions.rights(user).team_ids)
    return rows.filter(mine)


def planned_for(substitute: User) -> QuerySet[Task]:
    """The planned tasks and meetings of the colleagues `substitute` stands in for today."""
    return (
        permissions.scope(substitute, Action.VIEW, Task.objects.all())
        .filter(planned_of(standing_in_for(substitute.pk)))
        .select_related("assignee")
        .order_by("due_at", "id")
    )
