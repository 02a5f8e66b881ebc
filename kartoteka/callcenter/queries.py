"""Reads of the contact centre, always through the permissions engine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from kartoteka.callcenter import access
from kartoteka.callcenter.models import Call, Operator
from kartoteka.core import permissions
from kartoteka.core.permissions import Action, AnyUser

LIST_COLUMNS = (
    "id",
    "direction",
    "status",
    "caller",
    "caller_e164",
    "callee",
    "callee_e164",
    "queue",
    "started_at",
    "answered_at",
    "ended_at",
    "version",
    "client__id",
    "client__name",
    "user__id",
    "user__username",
    "user__first_name",
    "user__last_name",
    "disposition__name",
)
STATUS_FILTERS = {*Call.Status.values, "lost"}


def visible_calls(user: AnyUser, action: Action = Action.VIEW) -> QuerySet[Call]:
    return permissions.scope(user, action, Call.objects.all())


def for_list(rows: QuerySet[Call]) -> QuerySet[Call]:
    return rows.select_related("client", "user", "disposition").only(*LIST_COLUMNS)


def filter_calls(
    rows: QuerySet[Call], *, status: str = "", direction: str = "", user_id: int | None = None
) -> QuerySet[Call]:
    if status == "lost":
        rows = rows.filter(status__in=Call.LOST)
    elif status:
        rows = rows.filter(status=status)
    if direction:
        rows = rows.filter(direction=direction)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    return rows


def card(user: AnyUser, pk: int, action: Action = Action.VIEW) -> Call:
    rows = Call.objects.select_related(
        "client", "user", "operator", "disposition", "callback_task", "callback_task__assignee"
    )
    return permissions.get_or_404(user, action, rows, pk=pk)


# --- the supervisor's board -------------------------------------------------------------------


@dataclass
class Board:
    operators: list[Operator]
    queues: list[dict[str, Any]]
    now: dt.datetime


def board(user: AnyUser, now: dt.datetime | None = None) -> Board:
    """Operators the user may see with their status and time in it; calls waiting per queue."""
    now = now or timezone.now()
    operators = list(
        visible_operators(user)
        .select_related("user", "break_reason", "call")
        .order_by("extension")[:500]
    )
    for op in operators:
        op.seconds = max(0, int((now - op.since).total_seconds()))  # type: ignore[attr-defined]
        limit = op.break_reason.limit_minutes if op.break_reason else None
        op.over_limit = bool(  # type: ignore[attr-defined]
            (op.status == Operator.Status.AFTER_CALL and op.acw_until and op.acw_until < now)
            or (limit and op.seconds > limit * 60)  # type: ignore[attr-defined]
        )
    # Waiting calls: the queued ones (a partial index), at most a day old (lost events).
    waiting = (
        visible_waiting(user)
        .filter(started_at__gte=now - dt.timedelta(days=1))
        .values("queue")
        .annotate(count=Count("id"), oldest=Min("started_at"))
        .order_by("queue")
    )
    queues = [
        {
            "name": row["queue"],
            "count": row["count"],
            "oldest": row["oldest"],
            "longest": max(0, int((now - row["oldest"]).total_seconds())),
        }
        for row in waiting
    ]
    return Board(operators=operators, queues=queues, now=now)


def visible_operators(user: AnyUser) -> QuerySet[Operator]:
    """Operators whose calls the user may see: all, the user's teams', or the user alone."""
    level = permissions.scope_of(user, "call", Action.VIEW)
    rows = Operator.objects.all()
    if level is permissions.Scope.ALL:
        return rows
    who = permissions.rights(user)
    if level is permissions.Scope.TEAM:
        return rows.filter(user_id__in=sorted(who.team_ids))
    return rows.filter(user_id=who.user_id) if who.user_id else rows.none()


def rung(user_id: int) -> Q:
    """The call ringing (or talking to) the user's extension right now: in ring-all several
    operators are rung and each needs the screen pop, whoever the call ends up with."""
    return Q(pk__in=Operator.objects.filter(user_id=user_id, call__isnull=False).values("call_id"))


def visible_waiting(user: AnyUser) -> QuerySet[Call]:
    """Queued calls: nobody owns them yet, so whoever may see calls beyond their own sees them."""
    if not access.supervises(user):
        return Call.objects.none()
    return Call.objects.filter(status=Call.Status.QUEUED)


# --- the callbacks report ---------------------------------------------------------------------

REPORT_ROWS = 500


def callbacks(user: AnyUser, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Lost calls in [start, end] and how fast each was called back."""
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, zone)
    lost = Call.objects.filter(
        status__in=Call.LOST,
        direction=Call.Direction.INBOUND,
        started_at__gte=since,
        started_at__lt=until,
    )
    level = permissions.scope_of(user, "call", Action.VIEW)
    if level < permissions.Scope.ALL:
        # A lost call is whoever's it rang, or its call-back assignee's, or nobody's yet.
        mine = permissions.condition(user, Action.VIEW, Call) or Q(pk__in=[])
        rows_q = mine | Q(user__isnull=True)
        if level < permissions.Scope.TEAM:
            rows_q = mine | Q(callback_task__assignee=user)
        lost = lost.filter(rows_q)
    rows = list(
        lost.select_related("client", "user", "callback_task", "callback_task__assignee").order_by(
            "-started_at", "-id"
        )[:REPORT_ROWS]
    )
    delays = []
    for call in rows:
        end_at = call.ended_at or call.started_at
        call.delay = (  # type: ignore[attr-defined]
            int((call.called_back_at - end_at).total_seconds()) if call.called_back_at else None
        )
        if call.delay is not None:  # type: ignore[attr-defined]
            delays.append(max(0, call.delay))  # type: ignore[attr-defined]
    delays.sort()
    return {
        "rows": rows,
        "lost": len(rows),
        "called_back": len(delays),
        "waiting": len(rows) - len(delays),
        "median": delays[len(delays) // 2] if delays else None,
        "within_hour": sum(1 for d in delays if d <= 3600),
        "truncated": len(rows) == REPORT_ROWS,
    }
