"""The live wallboard's figures: today per queue, and the agents by status.

Two cheap queries per refresh: one aggregate over the calls of the last day (an index range on
started_at; today's service level, ASA and abandonment, and the calls waiting now with the
oldest's start), one count of the operators per status. The page re-reads them every few
seconds when they changed (callcenter/live.py, the board's stream): nothing is published for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Min, Q
from django.utils import timezone

from kartoteka.callcenter import kpi
from kartoteka.callcenter.models import Call, Operator
from kartoteka.callcenter.queries import visible_calls, visible_operators
from kartoteka.core.permissions import AnyUser

WAITING = Q(status=Call.Status.QUEUED)
# Bootstrap's colours per agent status, for a screen read from across the room.
COLOURS = {
    Operator.Status.AVAILABLE: "text-bg-success",
    Operator.Status.RINGING: "text-bg-warning",
    Operator.Status.ON_CALL: "text-bg-primary",
    Operator.Status.AFTER_CALL: "text-bg-info",
    Operator.Status.BREAK: "text-bg-secondary",
    Operator.Status.OFFLINE: "text-bg-light",
}


@dataclass
class Queue:
    name: str
    figures: kpi.Row
    waiting: int = 0
    longest_s: int | None = None
    oldest: dt.datetime | None = None  # the longest waiting call's start: the page ticks it


@dataclass
class Wallboard:
    params: kpi.Params
    queues: list[Queue]
    total: Queue
    # (status, its label, its colour, how many operators are in it)
    agents: list[tuple[str, str, str, int]] = field(default_factory=list)
    now: dt.datetime = field(default_factory=timezone.now)


def wallboard(user: AnyUser, p: kpi.Params, now: dt.datetime | None = None) -> Wallboard:
    """Today's figures per queue (calls started since local midnight) and who waits now
    (queued calls at most a day old, as the supervisor's board counts them)."""
    now = now or timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    since = min(today, now - dt.timedelta(days=1))
    rows = (
        visible_calls(user)
        .filter(direction=Call.Direction.INBOUND, started_at__gte=since)
        .values("queue")
        .annotate(
            **kpi.service_counts(p, Q(started_at__gte=today)),
            waiting=Count("pk", filter=WAITING),
            oldest=Min("started_at", filter=WAITING),
        )
        .order_by("queue")
    )
    queues = []
    total = Queue(name="", figures=kpi.Row(key=None, variant=p.variant))
    for item in rows:
        queue = Queue(
            name=item["queue"],
            figures=kpi.fill(kpi.Row(key=item["queue"], variant=p.variant), item),
            waiting=item["waiting"],
            longest_s=max(0, int((now - item["oldest"]).total_seconds()))
            if item["oldest"]
            else None,
            oldest=item["oldest"],
        )
        if queue.figures.offered or queue.waiting:
            queues.append(queue)
        total.figures.add(queue.figures)
        total.waiting += queue.waiting
        if queue.longest_s is not None:
            total.longest_s = max(total.longest_s or 0, queue.longest_s)
            total.oldest = min(filter(None, (total.oldest, queue.oldest)))
    counts = dict(visible_operators(user).values_list("status").annotate(n=Count("pk")).order_by())
    agents = [(s.value, str(s.label), COLOURS[s], counts.get(s.value, 0)) for s in Operator.Status]
    return Wallboard(params=p, queues=queues, total=total, agents=agents, now=now)
