"""Background jobs of the contact centre: thin and idempotent."""

from __future__ import annotations

from django_tasks import task

from kartoteka.callcenter import reservations, statuses


@task()
def sync_operator_state(operator_id: int) -> None:
    """Tell the PBX the operator's current state (reads it afresh: a late run is harmless)."""
    statuses.sync_with_pbx(operator_id)


@task()
def expire_after_call_work() -> int:
    return statuses.expire_after_call_work()


def expire_after_call_work_if_due() -> bool:
    """The fast clock's tick (`kartoteka cron --loop`): end after-call work past its limit.

    One indexed read when nothing is due; the change itself is cheap, so it runs right here
    instead of waiting for a worker (the limit is counted in seconds)."""
    if not statuses.acw_due():
        return False
    statuses.expire_after_call_work()
    return True


def expire_reservations_if_due() -> bool:
    """The fast clock's tick: operators the ACD reserved for a call that never rang them."""
    if not reservations.due():
        return False
    reservations.expire()
    return True
