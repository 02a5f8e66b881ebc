"""Volumes and handle time from the calls already taken: the average number of inbound calls in
each interval of the day (or of the week) over the last N weeks, and the mean talk time plus
after-call work. Read through the permissions engine: a head plans on the calls he may see."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.callcenter import access
from kartoteka.callcenter.models import Call, OperatorStatusChange
from kartoteka.callcenter.queries import visible_calls
from kartoteka.core.permissions import AnyUser
from kartoteka.staffing.planning import (
    Inputs,
    Plan,
    Volumes,
    check,
    forecast_volumes,
    labels,
    slots_per_day,
    staff,
)

MAX_CALLS_READ = 300_000  # a quarter of a year of a 3,000-calls-a-day centre


def _inbound(user: AnyUser, inputs: Inputs, now: dt.datetime | None) -> QuerySet[Call]:
    """Inbound calls of the last `weeks` whole days (not today's part), of the queue if any."""
    zone = timezone.get_current_timezone()
    today = timezone.localtime(now or timezone.now(), zone).date()
    since = dt.datetime.combine(today - dt.timedelta(weeks=inputs.weeks), dt.time.min, zone)
    until = dt.datetime.combine(today, dt.time.min, zone)
    calls = visible_calls(user).filter(
        direction=Call.Direction.INBOUND, started_at__gte=since, started_at__lt=until
    )
    return calls.filter(queue=inputs.queue) if inputs.queue else calls


def volumes(user: AnyUser, inputs: Inputs, now: dt.datetime | None = None) -> Volumes:
    zone = timezone.get_current_timezone()
    calls = _inbound(user, inputs, now)
    per_day = slots_per_day(inputs)
    counts: Counter[int] = Counter()
    days: set[dt.date] = set()
    start_minute = inputs.day_start * 60
    for started in calls.values_list("started_at", flat=True)[:MAX_CALLS_READ]:
        local = timezone.localtime(started, zone)
        days.add(local.date())
        slot = (local.hour * 60 + local.minute - start_minute) // inputs.interval_minutes
        if 0 <= slot < per_day:
            weekday = local.weekday() if inputs.span == "week" else 0
            counts[weekday * per_day + slot] += 1
    size = per_day * (7 if inputs.span == "week" else 1)
    # A day's plan averages the days that had calls (a closed Sunday is no quiet day);
    # a week's plan averages each weekday over the weeks.
    divisor = inputs.weeks if inputs.span == "week" else max(1, len(days))
    calls_per_slot = [counts[i] / divisor for i in range(size)]
    return Volumes(labels(inputs, size), calls_per_slot, handle_time(calls), len(days))


def handle_time(calls: QuerySet[Call]) -> float | None:
    """Mean talk time of the answered calls plus the mean after-call work that followed them."""
    answered = calls.filter(answered_at__isnull=False, ended_at__isnull=False)
    pairs = answered.values_list("answered_at", "ended_at")[:MAX_CALLS_READ]
    talks = [(ended - began).total_seconds() for began, ended in pairs if began and ended]
    if not talks:
        return None
    wrap_ups = OperatorStatusChange.objects.filter(
        status="after_call", ended_at__isnull=False, call__in=answered.values("pk")
    ).values_list("started_at", "ended_at")[:MAX_CALLS_READ]
    wraps = [(ended - began).total_seconds() for began, ended in wrap_ups if ended]
    acw = sum(wraps) / len(talks) if wraps else 0.0  # calls without wrap-up count as 0 s
    return max(1.0, sum(talks) / len(talks) + acw)


def plan(user: AnyUser, inputs: Inputs, now: dt.datetime | None = None) -> Plan:
    """The staffing plan of `inputs`; a ValidationError names the input at fault."""
    access.require_supervisor(user)
    check(inputs)
    if inputs.source == "history":
        found = volumes(user, inputs, now)
        if not found.days:
            raise ValidationError(
                {"weeks": [_("No inbound calls in these weeks: enter a forecast instead.")]}
            )
    else:
        found = forecast_volumes(inputs)
        if inputs.aht_s is None:  # the forecast's handle time may come from history
            found.aht_s = handle_time(_inbound(user, inputs, now))
    return staff(inputs, found)
