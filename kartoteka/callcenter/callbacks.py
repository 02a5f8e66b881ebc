"""A missed or abandoned call never gets lost: it becomes a task to call back, for the client's
owner, else the queue's callback user, else the operator it rang, else the default call-back user
of the settings, else a head (or an administrator) by role. The first call back to the number
(or the task done) is timed for the callbacks report."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.callcenter.models import Call, CallbackSettings, Queue
from kartoteka.clients.models import Client
from kartoteka.clients.validators import format_phone
from kartoteka.planner import services as planner
from kartoteka.planner.models import Task


def assignee(call: Call, client: Client | None) -> User | None:
    if client is not None and client.owner_id and client.owner and client.owner.is_active:
        return client.owner
    queue = Queue.objects.select_related("callback_user").filter(name=call.queue).first()
    if queue is not None and queue.callback_user and queue.callback_user.is_active:
        return queue.callback_user
    if call.user_id and call.user and call.user.is_active:
        return call.user
    return fallback()


def fallback() -> User | None:
    """Whoever calls back the lost calls nobody else owns: the configured user, else the first
    active head of sales, else the first administrator (by role, else a superuser)."""
    chosen = CallbackSettings.objects.select_related("default_user").filter(pk=1).first()
    if chosen is not None and chosen.default_user and chosen.default_user.is_active:
        return chosen.default_user
    active = User.objects.filter(is_active=True).order_by("pk")
    return (
        active.filter(role__code="head").first()
        or active.filter(role__is_admin=True).first()
        or active.filter(is_superuser=True).first()
    )


def schedule(call: Call) -> Task | None:
    """The call-back task of a lost inbound call (once per call)."""
    if call.callback_task_id or call.direction != Call.Direction.INBOUND:
        return None
    client = (
        Client.objects.select_related("owner").filter(pk=call.client_id).first()
        if call.client_id
        else None
    )
    who = assignee(call, client)
    if who is None:  # no active user at all: still in the callbacks report, as nobody's
        return None
    number = format_phone(call.caller_e164) if call.caller_e164 else call.caller
    lines = [
        _("Missed call at %(time)s.") % {"time": call.started_at.isoformat(timespec="seconds")},
        _("Queue: %(queue)s") % {"queue": call.queue} if call.queue else "",
        _("Call card: %(url)s") % {"url": reverse("callcenter:card", args=[call.pk])},
    ]
    task = planner.create_task(
        None,
        {
            "kind": Task.Kind.CALL,
            "title": (_("Call back %(number)s") % {"number": number or "?"})[:200],
            "description": "\n".join(line for line in lines if line),
            "assignee": who,
            "due_at": call.ended_at or call.started_at,
            "priority": Task.Priority.HIGH,
        },
        targets=planner.Targets([client] if client else []),
    )
    call.callback_task = task
    Call.objects.filter(pk=call.pk).update(callback_task=task)
    return task


def withdraw(call: Call) -> None:
    """The call turned out answered (its events came out of order): no call back is owed."""
    task = Task.objects.filter(pk=call.callback_task_id).first() if call.callback_task_id else None
    if task is not None and task.is_active:
        planner.cancel_task(None, task, None, _("The call was answered."))


def called_back(call: Call, at: dt.datetime) -> None:
    """An outbound call to a number whose calls were lost: they count as called back now."""
    if not call.callee_e164:
        return
    Call.objects.filter(
        direction=Call.Direction.INBOUND,
        status__in=Call.LOST,
        caller_e164=call.callee_e164,
        started_at__lte=at,
        called_back_at__isnull=True,
    ).update(called_back_at=at)


def task_done(task_id: int, at: dt.datetime) -> None:
    """A call-back task done by hand counts as the call back, if no call was seen before."""
    Call.objects.filter(callback_task_id=task_id, called_back_at__isnull=True).update(
        called_back_at=at
    )
