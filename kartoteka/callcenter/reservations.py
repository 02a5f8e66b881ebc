"""The operator a route decision names is reserved for that call: two calls routed in the same
instant cannot both get him.

A reservation is the status "ringing" with no call on the operator (a real ring always names its
call), written through `statuses.transition`, so it is a row of the status history whose reason
names the PBX's call id. It ends when the call's ringing event arrives (the ring takes over),
when he answers, or after RESERVE_SECONDS without either (the PBX never dialled him, or the
caller hung up first): the fast clock's tick returns him to available.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kartoteka.callcenter import statuses
from kartoteka.callcenter.models import Operator, OperatorStatusChange
from kartoteka.callcenter.statuses import Source, Status

# Longer than the dialplan's Dial() ring (20 s): the ringing event comes well before.
RESERVE_SECONDS = 30


def reason(call_id: str) -> str:
    return f"reserved for call {call_id}"[:200]


def is_reserved(operator: Operator) -> bool:
    return operator.status == Status.RINGING and operator.call_id is None


def held_for(call_id: str) -> int | None:
    """The operator already reserved for this call (the PBX asked again), if any."""
    if not call_id:
        return None
    return (
        OperatorStatusChange.objects.filter(
            ended_at__isnull=True,
            status=Status.RINGING,
            call__isnull=True,
            reason=reason(call_id),
            operator__status=Status.RINGING,
            operator__call__isnull=True,
        )
        .values_list("operator_id", flat=True)
        .first()
    )


def reserve(operator_id: int, call_id: str, at: dt.datetime) -> bool:
    """Lock the operator, check he is still available, and move him to ringing for this call;
    False when someone else took him meanwhile. The caller holds the transaction."""
    row = Operator.objects.select_for_update().filter(pk=operator_id).first()
    if row is None or row.status != Status.AVAILABLE:
        return False
    statuses.transition(row, Status.RINGING, at, Source.CALL, reason=reason(call_id))
    return True


def _overdue(now: dt.datetime) -> QuerySet[Operator]:
    limit = now - dt.timedelta(seconds=RESERVE_SECONDS)
    return Operator.objects.filter(status=Status.RINGING, call__isnull=True, since__lte=limit)


def expire(now: dt.datetime | None = None) -> int:
    """Reservations no telephony event followed within RESERVE_SECONDS: available again."""
    now = now or timezone.now()
    count = 0
    for pk in list(_overdue(now).values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            row = Operator.objects.select_for_update().filter(pk=pk).first()
            if row is None or not is_reserved(row):
                continue
            ended = row.since + dt.timedelta(seconds=RESERVE_SECONDS)
            if ended > now:
                continue
            count += statuses.transition(row, Status.AVAILABLE, ended, Source.TIMER)
    return count


def due() -> bool:
    return _overdue(timezone.now()).exists()
