"""Operator statuses: every change is a row of history, the PBX is told after commit.

A status is set by the operator (available, break, offline), by a supervisor, by call events
(ringing, on a call, after-call work), by the after-call-work timer and by the PBX itself.
The caller holds the transaction; `transition()` expects the operator row locked.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Field
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.callcenter.models import BreakReason, Call, Operator, OperatorStatusChange
from kartoteka.callcenter.providers.base import OperatorState
from kartoteka.core import permissions, realtime
from kartoteka.core.permissions import Action, Denied

log = logging.getLogger(__name__)
Status = Operator.Status
Source = OperatorStatusChange.Source

# What the PBX knows of an operator: a queue member who is paused, available or logged out.
PBX_STATE = {
    Status.AVAILABLE: OperatorState.AVAILABLE,
    Status.RINGING: OperatorState.AVAILABLE,
    Status.ON_CALL: OperatorState.AVAILABLE,
    Status.AFTER_CALL: OperatorState.PAUSED,
    Status.BREAK: OperatorState.PAUSED,
    Status.OFFLINE: OperatorState.OFFLINE,
}


def locked(operator: Operator) -> Operator:
    return get_object_or_404(Operator.objects.select_for_update(), pk=operator.pk)


def transition(
    operator: Operator,
    status: str,
    at: dt.datetime,
    source: str,
    *,
    actor: User | None = None,
    call: Call | None = None,
    break_reason: BreakReason | None = None,
    reason: str = "",
) -> bool:
    """Move a locked operator to `status` from `at`; False when nothing changes."""
    same_call = (call.pk if call else None) == operator.call_id
    same_break = (break_reason.pk if break_reason else None) == operator.break_reason_id
    if operator.status == status and same_call and same_break:
        return False
    before = operator.status
    closed_at = max(at, operator.since)
    operator.status, operator.since = status, at
    operator.call = call
    operator.break_reason = break_reason if status == Status.BREAK else None
    operator.acw_until = (
        at + dt.timedelta(seconds=operator.acw_seconds) if status == Status.AFTER_CALL else None
    )
    change = OperatorStatusChange(
        operator=operator,
        status=status,
        started_at=at,
        source=source,
        actor=actor,
        break_reason=break_reason,
        reason=reason[:200],
        call=call,
    )
    if connection.vendor == "postgresql":
        _record_at_once(operator, change, closed_at)
    else:
        OperatorStatusChange.objects.filter(operator=operator, ended_at__isnull=True).update(
            ended_at=closed_at
        )
        change.save()
        operator.save(update_fields=OPERATOR_FIELDS)
    realtime.publish(operator.user_id, "operator", status_payload(operator))
    if source != Source.PBX and PBX_STATE[Status(before)] != PBX_STATE[Status(status)]:
        operator_pk = operator.pk
        transaction.on_commit(lambda: _sync_later(operator_pk))
    return True


OPERATOR_FIELDS = ["status", "since", "call", "break_reason", "acw_until"]
HISTORY_FIELDS = [
    "operator",
    "status",
    "started_at",
    "source",
    "actor",
    "break_reason",
    "reason",
    "call",
]


def _record_at_once(
    operator: Operator, change: OperatorStatusChange, closed_at: dt.datetime
) -> None:
    """The three writes of a transition — close the open interval, open the new one, save the
    operator — in one statement (one round trip instead of three: a status changes with
    nearly every telephony event). The sub-statements see the same snapshot, so the interval
    opened here is not the one closed."""
    q = connection.ops.quote_name
    history, table = q(OperatorStatusChange._meta.db_table), q(Operator._meta.db_table)
    columns, values = _columns(change, HISTORY_FIELDS)
    sets, fresh = _columns(operator, OPERATOR_FIELDS)
    sql = (
        f"WITH closed AS (UPDATE {history} SET ended_at = %s"  # noqa: S608  # nosec B608
        " WHERE operator_id = %s AND ended_at IS NULL),"
        f" opened AS (INSERT INTO {history} ({', '.join(columns)})"
        f" VALUES ({', '.join(['%s'] * len(columns))}))"
        f" UPDATE {table} SET {', '.join(f'{c} = %s' for c in sets)} WHERE id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [closed_at, operator.pk, *values, *fresh, operator.pk])


def _columns(row: Operator | OperatorStatusChange, names: list[str]) -> tuple[list[str], list[Any]]:
    """Quoted column names and database values of a model's fields (our names only)."""
    fields = [cast("Field[Any, Any]", row._meta.get_field(name)) for name in names]
    conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: it costs a lookup per access
    return (
        [conn.ops.quote_name(f.column) for f in fields],
        [f.get_db_prep_save(getattr(row, f.attname), conn) for f in fields],
    )


def _sync_later(operator_id: int) -> None:
    from kartoteka.callcenter.providers import keeps_state
    from kartoteka.callcenter.tasks import sync_operator_state

    if keeps_state():
        sync_operator_state.enqueue(operator_id)


def status_payload(operator: Operator) -> dict[str, object]:
    return {
        "status": operator.status,
        "label": str(operator.get_status_display()),
        "since": operator.since.isoformat(),
        "acw_until": operator.acw_until.isoformat() if operator.acw_until else None,
    }


def may_set(actor: User, operator: Operator) -> bool:
    """The operator himself, or a supervisor whose role may edit the calls of the operator's
    team (or everyone's)."""
    if operator.user_id == actor.pk:
        return True
    level = permissions.scope_of(actor, "call", Action.EDIT)
    if level is permissions.Scope.ALL:
        return True
    return (
        level is permissions.Scope.TEAM and operator.user_id in permissions.rights(actor).team_ids
    )


def set_status(
    actor: User,
    operator: Operator,
    status: str,
    *,
    break_reason: BreakReason | None = None,
    reason: str = "",
) -> Operator:
    """The operator (or a supervisor) chooses available, break or offline."""
    errors: dict[str, list[str]] = {}
    if status not in Operator.CHOSEN:
        errors["status"] = [_("Choose available, break or offline.")]
    if (
        status == Status.BREAK
        and break_reason is None
        and (not reason.strip() or BreakReason.objects.filter(is_active=True).exists())
    ):
        errors["break_reason"] = [_("Choose the reason of the break.")]
    if break_reason is not None and not break_reason.is_active:
        errors["break_reason"] = [_("This reason is no longer in use.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = locked(operator)
        if not may_set(actor, row):
            raise Denied(Action.EDIT)
        if row.status in (Status.RINGING, Status.ON_CALL):
            raise ValidationError({"status": [_("Finish the call first.")]})
        source = Source.OPERATOR if row.user_id == actor.pk else Source.SUPERVISOR
        transition(
            row,
            status,
            timezone.now(),
            source,
            actor=actor,
            break_reason=break_reason if status == Status.BREAK else None,
            reason=reason.strip(),
        )
    return row


def expire_after_call_work(now: dt.datetime | None = None) -> int:
    """Operators whose after-call work passed its limit become available again."""
    now = now or timezone.now()
    due = Operator.objects.filter(status=Status.AFTER_CALL, acw_until__lte=now)
    count = 0
    for pk in list(due.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            row = Operator.objects.select_for_update().filter(pk=pk).first()
            if row is None or row.status != Status.AFTER_CALL or not row.acw_until:
                continue
            if row.acw_until > now:
                continue
            count += transition(row, Status.AVAILABLE, row.acw_until, Source.TIMER)
    return count


def acw_due() -> bool:
    return Operator.objects.filter(status=Status.AFTER_CALL, acw_until__lte=timezone.now()).exists()


def sync_with_pbx(operator_id: int) -> None:
    """Tell the active provider the operator's current state (a provider that cannot: fine)."""
    from kartoteka.callcenter.providers import active
    from kartoteka.callcenter.providers.base import ProviderError, Unsupported

    operator = Operator.objects.select_related("break_reason").filter(pk=operator_id).first()
    provider = active()
    if operator is None or provider is None:
        return
    reason = operator.break_reason.name if operator.break_reason else ""
    try:
        provider.set_state(operator.extension, PBX_STATE[Status(operator.status)], reason=reason)
    except Unsupported:
        return
    except ProviderError:
        log.warning("the PBX did not take operator %s's state", operator.extension, exc_info=True)
