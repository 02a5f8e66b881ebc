"""KPI test data: calls and status rows built directly, at exact offsets from T0."""

from __future__ import annotations

import datetime as dt

from kartoteka.callcenter.models import Call, OperatorStatusChange

# 13:00 in Moscow (the test zone) on 1 December; the period is that local day.
T0 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 12, 1)
NOW = T0 + dt.timedelta(hours=1)
S = dt.timedelta(seconds=1)
_ids = iter(range(1, 10_000))


def call(operator=None, *, at=T0, wait=None, talk=None, lost=None, **extra) -> Call:
    """An inbound call `wait` seconds to its answer (or to its loss) and `talk` seconds long."""
    started = at
    row = {"status": Call.Status.QUEUED}
    if wait is not None and lost is None:
        answered = started + wait * S
        row = {"answered_at": answered, "status": Call.Status.ANSWERED}
        if talk is not None:
            row |= {"ended_at": answered + talk * S, "status": Call.Status.ENDED}
    elif lost is not None:
        row = {"ended_at": started + wait * S, "status": lost}
    who = {"operator": operator, "user_id": operator.user_id} if operator else {}
    return Call.objects.create(
        provider="test",
        call_id=f"k{next(_ids)}",
        started_at=started,
        queue=extra.pop("queue", "sales"),
        **who,
        **row,
        **extra,
    )


def status(operator, name, start, end=None, call=None) -> None:
    OperatorStatusChange.objects.create(
        operator=operator, status=name, started_at=start, ended_at=end, source="call", call=call
    )


def make_world(olga, ivan):
    """Five inbound calls of olga's in "sales" on the day, an outbound one, a waiting one."""
    first = call(olga, wait=20, talk=100, client=ivan, caller_e164="+79161234567")  # exactly T
    second = call(olga, wait=21, talk=60, caller_e164="+79990000001")
    call(wait=5, lost=Call.Status.ABANDONED)  # exactly S: a counted abandon
    call(wait=4.999, lost=Call.Status.ABANDONED)  # short
    call(wait=30, lost=Call.Status.MISSED)
    call()  # still waiting: in no count
    call(olga, wait=1, talk=500, direction=Call.Direction.OUTBOUND)
    # Repeats, outside the period: ivan 7 days and a second later (not a repeat), the second
    # caller exactly 7 days later (a repeat).
    call(at=first.started_at + dt.timedelta(days=7) + S, client=ivan, wait=9, lost="missed")
    call(at=second.started_at + dt.timedelta(days=7), caller_e164="+79990000001", wait=1, talk=1)
    status(olga, "after_call", T0 + 120 * S, T0 + 150 * S, call=first)
    status(olga, "after_call", T0 + 200 * S, T0 + 210 * S, call=second)
    return first, second
