"""Every write to the planner: tasks created, changed, closed, postponed, rescheduled, taken
over. Views, the API and jobs call these; each owns its transaction and its history rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.activities.services import log_interaction
from kartoteka.clients.models import Client
from kartoteka.core import audit, permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.permissions import Action, Denied, Scope
from kartoteka.planner import events, ical, recurrence, reminders
from kartoteka.planner.models import Task, TaskChange, TaskLink
from kartoteka.sales.models import Deal

# Fields a task's form and the API may set (status changes go through their own functions).
FIELDS = (
    "kind",
    "title",
    "description",
    "assignee",
    "due_at",
    "duration_minutes",
    "priority",
    "remind_minutes",
    "remind_by_email",
    "repeat",
    "repeat_interval",
    "repeat_until",
    "repeat_count",
)
MAX_LINKS = 20
MAX_PARTICIPANTS = 50
# A done task of these kinds is logged on its clients' timelines.
LOGGED_AS = {
    Task.Kind.CALL: Interaction.Kind.CALL,
    Task.Kind.MEETING: Interaction.Kind.MEETING,
    Task.Kind.EMAIL: Interaction.Kind.EMAIL,
}


class Targets:
    """What a task is about: clients and deals, already resolved to records."""

    def __init__(self, clients: Sequence[Client] = (), deals: Sequence[Deal] = ()) -> None:
        self.clients = list(dict.fromkeys(clients))
        self.deals = list(dict.fromkeys(deals))


# --- checks -----------------------------------------------------------------------------------


def may_assign(actor: User | None, assignee: User | None) -> bool:
    """A task may go to oneself, to a teammate, or to anyone with the right to reassign tasks
    everywhere (team-wide reassigning: within the actor's teams)."""
    if actor is None or assignee is None or assignee.pk == actor.pk:
        return True
    who = permissions.rights(actor)
    if assignee.pk in who.team_ids:
        return True
    return permissions.scope_of(actor, "task", Action.REASSIGN) is Scope.ALL


def _clean(task: Task, fields: dict[str, Any], errors: dict[str, list[str]]) -> None:
    for name, value in fields.items():
        if name not in FIELDS:
            errors[name] = [_("This field cannot be set.")]
        elif name in ("description", "repeat") and value is None:
            setattr(task, name, "")
        elif name == "repeat_interval" and value is None:
            task.repeat_interval = 1
        else:
            setattr(task, name, value)
    task.title = " ".join((task.title or "").split())
    if task.repeat and task.due_at is None:
        errors.setdefault("due_at", []).append(_("A repeating task needs a due date."))
    if task.remind_minutes is not None and task.due_at is None:
        errors.setdefault("due_at", []).append(_("A reminder needs a due date."))
    try:
        task.full_clean(
            exclude=["assignee", "created_by", "series", "participants"],
            validate_constraints=False,
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)


def _check_targets(actor: User | None, targets: Targets, errors: dict[str, list[str]]) -> None:
    if len(targets.clients) + len(targets.deals) > MAX_LINKS:
        errors["clients"] = [_("At most %(n)d clients and deals.") % {"n": MAX_LINKS}]
        return
    if actor is None:
        return
    if any(not permissions.can(actor, Action.VIEW, c) for c in targets.clients):
        errors["clients"] = [_("Choose clients you may see.")]
    if any(not permissions.can(actor, Action.VIEW, d) for d in targets.deals):
        errors["deals"] = [_("Choose deals you may see.")]


def _check_participants(participants: Sequence[User], errors: dict[str, list[str]]) -> None:
    if len(participants) > MAX_PARTICIPANTS:
        errors["participants"] = [_("At most %(n)d participants.") % {"n": MAX_PARTICIPANTS}]
    elif any(not p.is_active for p in participants):
        errors["participants"] = [_("Choose active users.")]


def _set_links(task: Task, targets: Targets) -> None:
    TaskLink.objects.filter(task=task).delete()
    TaskLink.objects.bulk_create(
        [TaskLink(task=task, client=c) for c in targets.clients]
        + [TaskLink(task=task, deal=d) for d in targets.deals]
    )


def _change(task: Task, verb: str, actor: User | None, **extra: Any) -> TaskChange:
    return TaskChange.objects.create(task=task, verb=verb, actor=actor, **extra)


def _locked(task: Task, actor: User | None, expected_version: int | None) -> Task:
    """The task locked for a write that `actor` may make, at the version the writer read."""
    locked = get_object_or_404(Task.objects.select_for_update(), pk=task.pk)
    if actor is not None and not permissions.can(actor, Action.EDIT, locked):
        raise Denied(Action.EDIT)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(locked.version)
    return locked


# --- create and change ------------------------------------------------------------------------


def create_task(
    actor: User | None,
    fields: dict[str, Any],
    *,
    targets: Targets | None = None,
    participants: Sequence[User] = (),
) -> Task:
    """A new open task (by default the actor's own); ValidationError names bad fields."""
    if actor is not None and not permissions.can(actor, Action.CREATE, Task):
        raise Denied(Action.CREATE)
    targets = targets or Targets()
    fields = dict(fields)
    fields.setdefault("assignee", actor)
    task = Task(created_by=actor)
    errors: dict[str, list[str]] = {}
    _clean(task, fields, errors)
    _check_targets(actor, targets, errors)
    participants = list(dict.fromkeys(participants))
    _check_participants(participants, errors)
    if task.assignee is None:
        errors.setdefault("assignee", []).append(_("Choose who does the task."))
    elif not may_assign(actor, task.assignee):
        errors.setdefault("assignee", []).append(_("You may not give tasks to this user."))
    if errors:
        raise ValidationError(errors)
    task.planned_at = task.due_at
    with transaction.atomic():
        task.save()
        task.participants.set(participants)
        _set_links(task, targets)
        _change(task, TaskChange.Verb.CREATED, actor, to_due=task.due_at)
        reminders.schedule(task)
        if participants:
            ical.send_invitations(task)
        events.emit(events.TaskCreated(task.pk, getattr(actor, "pk", None)))
    return task


def update_task(
    actor: User | None,
    task: Task,
    expected_version: int,
    fields: dict[str, Any],
    *,
    targets: Targets | None = None,
    participants: Sequence[User] | None = None,
) -> Task:
    """Change a task read at `expected_version`; StaleVersion if someone saved it since."""
    with transaction.atomic():
        locked = _locked(task, actor, expected_version)
        before = {name: getattr(locked, name) for name in FIELDS}
        errors: dict[str, list[str]] = {}
        _clean(locked, fields, errors)
        if targets is not None:
            _check_targets(actor, targets, errors)
        if participants is not None:
            participants = list(dict.fromkeys(participants))
            _check_participants(participants, errors)
        if locked.assignee is None:
            errors.setdefault("assignee", []).append(_("Choose who does the task."))
        elif locked.assignee_id != before["assignee"] and not may_assign(actor, locked.assignee):
            errors.setdefault("assignee", []).append(_("You may not give tasks to this user."))
        if errors:
            raise ValidationError(errors)
        changed = {
            name: str(getattr(locked, name))
            for name in FIELDS
            if getattr(locked, name) != before[name]
        }
        if "due_at" in changed:
            locked.planned_at = locked.due_at
        locked.version += 1
        locked.save()
        if participants is not None:
            locked.participants.set(participants)
        if targets is not None:
            _set_links(locked, targets)
        _change(
            locked,
            TaskChange.Verb.CHANGED,
            actor,
            from_due=before["due_at"],
            to_due=locked.due_at,
            details={"fields": sorted(changed)},
        )
        if "assignee" in changed:
            audit.record(actor, "reassign", locked, assignee=str(locked.assignee))
        reminders.schedule(locked)
        if {"due_at", "duration_minutes", "title"} & set(changed) or participants is not None:
            ical.send_invitations(locked)
    return locked


def reschedule_task(
    actor: User | None,
    task: Task,
    expected_version: int,
    due_at: dt.datetime,
    duration_minutes: int | None = None,
) -> Task:
    """Move a task to another time (the calendar's drag and drop)."""
    fields: dict[str, Any] = {"due_at": due_at}
    if duration_minutes is not None:
        fields["duration_minutes"] = duration_minutes
    with transaction.atomic():
        locked = _locked(task, actor, expected_version)
        if not locked.is_active:
            raise ValidationError({"due_at": [_("Only open tasks can be moved.")]})
        before = locked.due_at
        errors: dict[str, list[str]] = {}
        _clean(locked, fields, errors)
        if errors:
            raise ValidationError(errors)
        locked.planned_at = locked.due_at
        locked.version += 1
        locked.save()
        _change(locked, TaskChange.Verb.RESCHEDULED, actor, from_due=before, to_due=locked.due_at)
        reminders.schedule(locked)
        ical.send_invitations(locked)
    return locked


# --- status -----------------------------------------------------------------------------------


def complete_task(
    actor: User | None, task: Task, expected_version: int | None, result: str = ""
) -> Task:
    """Done, with its result; a done call, meeting or e-mail is logged on its clients'
    timelines, and a repeating task gets its next occurrence."""
    with transaction.atomic():
        locked = _locked(task, actor, expected_version)
        if not locked.is_active:
            raise ValidationError({"status": [_("The task is already closed.")]})
        now = timezone.now()
        locked.status, locked.result, locked.closed_at = Task.Status.DONE, result.strip(), now
        locked.version += 1
        locked.save()
        _change(locked, TaskChange.Verb.DONE, actor, reason=locked.result[:500])
        _log_on_timelines(actor, locked, now)
        reminders.schedule(locked)
        _next_occurrence(actor, locked)
        events.emit(events.TaskDone(locked.pk, getattr(actor, "pk", None)))
    return locked


def cancel_task(
    actor: User | None, task: Task, expected_version: int | None, reason: str = ""
) -> Task:
    with transaction.atomic():
        locked = _locked(task, actor, expected_version)
        if not locked.is_active:
            raise ValidationError({"status": [_("The task is already closed.")]})
        locked.status, locked.closed_at = Task.Status.CANCELLED, timezone.now()
        locked.version += 1
        locked.save()
        _change(locked, TaskChange.Verb.CANCELLED, actor, reason=reason.strip()[:500])
        reminders.schedule(locked)
        ical.send_invitations(locked, cancel=True)
        _next_occurrence(actor, locked)
    return locked


def postpone_task(
    actor: User | None,
    task: Task,
    expected_version: int | None,
    due_at: dt.datetime | None,
    reason: str,
) -> Task:
    """Postpone to a new date with a reason; the old and new dates stay in the history."""
    errors: dict[str, list[str]] = {}
    if due_at is None:
        errors["due_at"] = [_("Choose the new date.")]
    if not reason.strip():
        errors["reason"] = [_("Say why the task is postponed.")]
    if errors:
        raise ValidationError(errors)
    assert due_at is not None
    with transaction.atomic():
        locked = _locked(task, actor, expected_version)
        if not locked.is_active:
            raise ValidationError({"status": [_("Only open tasks can be postponed.")]})
        if locked.due_at is not None and due_at <= locked.due_at:
            raise ValidationError({"due_at": [_("Choose a date after the current one.")]})
        before = locked.due_at
        locked.due_at, locked.status = due_at, Task.Status.POSTPONED
        locked.version += 1
        locked.save()
        _change(
            locked,
            TaskChange.Verb.POSTPONED,
            actor,
            from_due=before,
            to_due=due_at,
            reason=reason.strip()[:500],
        )
        reminders.schedule(locked)
    return locked


def reopen_task(actor: User | None, task: Task, expected_version: int | None) -> Task:
    with transaction.atomic():
        locked = _locked(task, actor, expected_version)
        if locked.is_active:
            raise ValidationError({"status": [_("The task is open already.")]})
        locked.status, locked.closed_at = Task.Status.OPEN, None
        locked.version += 1
        locked.save()
        _change(locked, TaskChange.Verb.REOPENED, actor)
        reminders.schedule(locked)
    return locked


def _log_on_timelines(actor: User | None, task: Task, now: dt.datetime) -> None:
    kind = LOGGED_AS.get(Task.Kind(task.kind))
    if kind is None:
        return
    clients = {link.client_id for link in task.links.all() if link.client_id}
    clients |= set(Deal.objects.filter(task_links__task=task).values_list("client_id", flat=True))
    channel = {
        Interaction.Kind.CALL: Interaction.Channel.PHONE,
        Interaction.Kind.EMAIL: Interaction.Channel.EMAIL,
    }.get(kind, Interaction.Channel.IN_PERSON)
    fields = {
        "kind": kind,
        "occurred_at": now,
        "channel": channel,
        "direction": Interaction.Direction.OUTBOUND,
        "subject": task.title[:300],
        "summary": task.result,
        "result": task.result[:200],
    }
    for client in Client.objects.filter(pk__in=clients).order_by("pk"):
        log_interaction(actor or task.assignee, client, fields)


def _next_occurrence(actor: User | None, task: Task) -> Task | None:
    if not task.repeat:
        return None
    root = task.series or task
    start = root.planned_at or root.due_at
    assert start is not None
    due = recurrence.next_due(
        start,
        task.repeat,
        task.repeat_interval,
        task.occurrence,
        task.repeat_until,
        task.repeat_count,
    )
    if due is None or Task.objects.filter(series=root, occurrence=task.occurrence + 1).exists():
        return None
    copy = {name: getattr(task, name) for name in FIELDS}
    following = Task(
        **copy,
        created_by=task.created_by,
        series=root,
        occurrence=task.occurrence + 1,
    )
    following.due_at = following.planned_at = due
    following.save()
    following.participants.set(task.participants.all())
    TaskLink.objects.bulk_create(
        TaskLink(task=following, client_id=link.client_id, deal_id=link.deal_id)
        for link in task.links.all()
    )
    _change(following, TaskChange.Verb.CREATED, actor, to_due=due, details={"after": task.pk})
    reminders.schedule(following)
    return following


# --- substitution -----------------------------------------------------------------------------


def take_over(actor: User, tasks: Iterable[Task], standing_in: Collection[int] = ()) -> int:
    """`actor` takes `tasks` over (a substitute taking an absent colleague's work): a task
    assigned to someone in `standing_in` (or to anyone, when it is empty) gets `actor` as its
    assignee; a meeting they only take part in gets `actor` in their place."""
    count = 0
    away = set(standing_in)
    with transaction.atomic():
        for task in tasks:
            locked = get_object_or_404(Task.objects.select_for_update(), pk=task.pk)
            if not permissions.can(actor, Action.VIEW, locked) or not locked.is_active:
                raise Denied(Action.EDIT)
            if not away or locked.assignee_id in away:
                taken = _take_assignment(actor, locked)
            else:
                taken = _take_seat(actor, locked, away)
            if taken:
                reminders.schedule(locked)
                count += 1
        if count:
            audit.record(actor, "reassign", kind="task", target_id="", count=count)
    return count


def _take_assignment(actor: User, task: Task) -> bool:
    before = task.assignee_id
    if before == actor.pk:
        return False
    task.assignee, task.version = actor, task.version + 1
    task.save(update_fields=["assignee", "version", "updated_at"])
    _change(task, TaskChange.Verb.TAKEN_OVER, actor, details={"from": before})
    return True


def _take_seat(actor: User, task: Task, away: set[int]) -> bool:
    seats = set(task.participants.values_list("pk", flat=True))
    absent = sorted(seats & away)
    if not absent:
        return False
    task.participants.remove(*absent)
    if actor.pk != task.assignee_id:
        task.participants.add(actor)
    task.version += 1
    task.save(update_fields=["version", "updated_at"])
    _change(
        task, TaskChange.Verb.TAKEN_OVER, actor, details={"from": absent[0], "participant": True}
    )
    return True
