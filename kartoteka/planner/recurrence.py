"""When the next occurrence of a repeating task falls due.

The rule: occurrence n of a series is due at the first occurrence's planned time plus
(n - 1) × interval days, weeks or months (months keep the first day of the month, clamped to
the month's end: the 31st gives the 28th/29th in February and the 31st again in March).
Closing an occurrence (done or cancelled) creates the next one; postponing one does not move
the ones after it.
"""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.utils import timezone

STEPS = {
    "daily": lambda n: relativedelta(days=n),
    "weekly": lambda n: relativedelta(weeks=n),
    "monthly": lambda n: relativedelta(months=n),
}


def nth_due(start: dt.datetime, repeat: str, interval: int, occurrence: int) -> dt.datetime | None:
    """The planned time of occurrence number `occurrence` (1 is `start`)."""
    step = STEPS.get(repeat)
    if step is None:
        return None
    # In local time, so that a daily 09:00 stays 09:00 across a change of the clocks.
    local = timezone.localtime(start)
    return (local.replace(tzinfo=None) + step(interval * (occurrence - 1))).replace(
        tzinfo=local.tzinfo
    )


def next_due(
    start: dt.datetime,
    repeat: str,
    interval: int,
    occurrence: int,
    until: dt.date | None,
    count: int | None,
) -> dt.datetime | None:
    """The planned time of the occurrence after `occurrence`, or None when the series ends."""
    if count is not None and occurrence >= count:
        return None
    due = nth_due(start, repeat, interval, occurrence + 1)
    if due is None or (until is not None and due.date() > until):
        return None
    return due
