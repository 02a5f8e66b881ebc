"""Who takes an incoming call, from CRM data: the live path's half of the ACD.

For a call (the caller's number, the queue) this finds the client, its ABC class, a VIP tag and
its sticky operator (the owner of an open deal, else the client's owner, if that user works at
an extension), reads the operators with their statuses and skills and the calls waiting in the
queue, and asks the pure router (`routing/`) — the same code the simulator runs. No routing
decision is made here: this module only translates rows into the router's dataclasses, and on
the live path reserves the operator chosen (`reservations`) so that two calls at once do not
both get him.

A PBX may ask again for a call that is still waiting: its wait then counts from the call's start
(the Call row the telephony events made), so overflow and escalation apply as configured.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from kartoteka.accounts.models import User
from kartoteka.callcenter import access, lookup, reservations, routing
from kartoteka.callcenter.acd_models import OperatorSkill, QueueOverflow, QueueRouting, QueueSkill
from kartoteka.callcenter.models import Call, Operator, Queue
from kartoteka.clients.models import Client
from kartoteka.sales.models import Deal, Stage
from kartoteka.segments.models import ClientClass

MAX_WAITING = 500
RESERVE_ATTEMPTS = 3  # then the call waits in the queue
STATES: dict[str, routing.AgentState] = {
    Operator.Status.AVAILABLE: routing.AgentState.AVAILABLE,
    Operator.Status.RINGING: routing.AgentState.BUSY,
    Operator.Status.ON_CALL: routing.AgentState.BUSY,
    Operator.Status.AFTER_CALL: routing.AgentState.WRAP_UP,
    Operator.Status.BREAK: routing.AgentState.PAUSED,
    Operator.Status.OFFLINE: routing.AgentState.OFFLINE,
}


class UnknownQueue(LookupError):
    """The PBX named a queue Kartoteka does not have."""


@dataclass(frozen=True)
class Facts:
    """What the CRM knows about a caller that routing uses."""

    abc: str = ""
    vip: bool = False
    sticky_operator_id: int | None = None


@dataclass(frozen=True)
class Decision:
    operator_id: int | None  # who takes the call now; None: it waits in the queue
    extension: str  # that operator's extension, "" when waiting
    priority: int  # the router's priority (ABC, VIP, escalation) for the PBX queue
    client_id: int | None
    facts: Facts


def _key(skill_id: int) -> str:
    return str(skill_id)  # the router keys skills by name; ids survive a rename


# --- the queues -------------------------------------------------------------------------------


def queue_configs() -> tuple[dict[str, routing.QueueConfig], dict[str, QueueRouting]]:
    """Every queue as the router's QueueConfig (overflow may name another queue), and the
    stored routing rows by queue name (defaults for a queue without one)."""
    queues = {q.pk: q.name for q in Queue.objects.only("pk", "name")}
    rows = {r.queue_id: r for r in QueueRouting.objects.all()}
    required: dict[int, dict[str, int]] = {pk: {} for pk in queues}
    for need in QueueSkill.objects.values("queue_id", "skill_id", "min_level"):
        required[need["queue_id"]][_key(need["skill_id"])] = need["min_level"]
    overflow: dict[int, list[routing.Overflow]] = {pk: [] for pk in queues}
    for step in QueueOverflow.objects.order_by("queue_id", "position"):
        if step.target_id is not None:
            overflow[step.queue_id].append(
                routing.Overflow(step.after_wait_s, queue=queues[step.target_id])
            )
        else:
            drop = step.level_drop or 0
            lowered = {s: max(1, n - drop) for s, n in required[step.queue_id].items()}
            overflow[step.queue_id].append(routing.Overflow(step.after_wait_s, required=lowered))
    configs, settings = {}, {}
    for pk, name in queues.items():
        row = rows.get(pk) or QueueRouting(queue_id=pk)
        settings[name] = row
        configs[name] = routing.QueueConfig(
            name=name,
            required=required[pk],
            strategy=routing.Strategy(row.strategy),
            overflow=tuple(overflow[pk]),
            escalate_after_s=row.escalate_after_s,
            sticky_wait_s=row.sticky_wait_s,
        )
    return configs, settings


# --- the clients ------------------------------------------------------------------------------


def client_facts(client_ids: Iterable[int], setting: QueueRouting) -> dict[int, Facts]:
    """ABC class, VIP tag and sticky operator of these clients, in four queries for any number."""
    ids = set(client_ids)
    if not ids:
        return {}
    abc: dict[int, str] = {}
    if setting.use_abc:
        abc = dict(ClientClass.objects.filter(client_id__in=ids).values_list("client_id", "abc"))
    vips: set[int] = set()
    if setting.vip_tag_id is not None:
        through = Client.tags.through.objects.filter(client_id__in=ids, tag_id=setting.vip_tag_id)
        vips = set(through.values_list("client_id", flat=True))
    operators = dict(Operator.objects.values_list("user_id", "pk"))
    sticky: dict[int, int] = {}
    deals = (
        Deal.objects.filter(client_id__in=ids, stage__kind=Stage.Kind.OPEN, owner__isnull=False)
        .order_by("client_id", "-updated_at")
        .values_list("client_id", "owner_id")
    )
    for client_id, owner_id in deals:
        if client_id not in sticky and owner_id in operators:
            sticky[client_id] = operators[owner_id]
    owners = Client.objects.filter(pk__in=ids - set(sticky), owner__isnull=False)
    for client_id, owner_id in owners.values_list("pk", "owner_id"):
        if owner_id in operators:
            sticky[client_id] = operators[owner_id]
    return {
        pk: Facts(abc=abc.get(pk, "") or "", vip=pk in vips, sticky_operator_id=sticky.get(pk))
        for pk in ids
    }


def caller_client(caller: str) -> int | None:
    """The client calling, when the number names exactly one."""
    ids = lookup.client_ids(lookup.e164(caller), limit=2)
    return ids[0] if len(ids) == 1 else None


# --- the operators ----------------------------------------------------------------------------


def operators(queue: str, strategy: routing.Strategy, since: dt.datetime) -> list[routing.Operator]:
    """Every operator as the router's Operator: state, skills, idle since, calls taken today."""
    rows = list(Operator.objects.values_list("pk", "user_id", "status", "since"))
    skills: dict[int, dict[str, int]] = {pk: {} for pk, *_rest in rows}
    for op_id, skill_id, level in OperatorSkill.objects.values_list(
        "operator_id", "skill_id", "level"
    ):
        skills[op_id][_key(skill_id)] = level
    taken: dict[int, int] = {}
    if strategy is routing.Strategy.FEWEST_CALLS:
        answered = Call.objects.filter(
            started_at__gte=since, operator__isnull=False, answered_at__isnull=False
        )
        taken = dict(
            answered.values("operator_id").annotate(n=Count("id")).values_list("operator_id", "n")
        )
    user_ids = [user_id for _pk, user_id, *_rest in rows]
    chiefs = set(
        User.objects.filter(access.routing_users(), pk__in=user_ids).values_list("pk", flat=True)
    )
    return [
        routing.Operator(
            id=pk,
            skills=skills[pk],
            state=STATES.get(status, routing.AgentState.OFFLINE),
            idle_since=at.timestamp(),
            calls_taken=taken.get(pk, 0),
            is_supervisor=user_id in chiefs,
        )
        for pk, user_id, status, at in rows
    ]


# --- the decision -----------------------------------------------------------------------------


def route(
    caller: str,
    queue: str,
    call_id: str = "",
    now: dt.datetime | None = None,
    *,
    reserve: bool = False,
) -> Decision:
    """Who takes this call now (or None: it waits), with its priority and client.

    With `reserve` (the live path) the operator named is reserved for the call in the same
    transaction; if another call took him meanwhile, the decision is made again without him."""
    now = now or timezone.now()
    if not reserve:
        return decide(caller, queue, call_id, now)
    call_id = call_id[:150]
    held = reservations.held_for(call_id)
    if held is not None:  # asked again for a call he is already reserved for: still his
        decision = decide(caller, queue, call_id, now)
        return replace(decision, operator_id=held, extension=_extension(held))
    taken: set[int] = set()
    for _attempt in range(RESERVE_ATTEMPTS):
        with transaction.atomic():
            decision = decide(caller, queue, call_id, now, taken)
            chosen = decision.operator_id
            if chosen is None or reservations.reserve(chosen, call_id, now):
                return decision
        taken.add(chosen)
    return replace(decision, operator_id=None, extension="")


def _extension(operator_id: int) -> str:
    return Operator.objects.filter(pk=operator_id).values_list("extension", flat=True)[0]


def decide(
    caller: str, queue: str, call_id: str, now: dt.datetime, taken: Collection[int] = ()
) -> Decision:
    """The router's decision from the rows as they are; `taken` operators count as busy."""
    configs, settings = queue_configs()
    if queue not in configs:
        raise UnknownQueue(queue)
    setting, config = settings[queue], configs[queue]
    client_id = caller_client(caller)
    arrived = now
    if call_id:
        known = Call.objects.filter(call_id=call_id[:150], queue=queue).first()
        if known is not None and known.status in Call.LIVE:
            arrived = min(now, known.started_at)
    waiting = list(
        Call.objects.filter(
            status=Call.Status.QUEUED, queue=queue, started_at__gte=now - dt.timedelta(days=1)
        )
        .exclude(call_id=call_id[:150])
        .order_by("started_at")
        .values_list("pk", "client_id", "started_at")[:MAX_WAITING]
    )
    facts = client_facts([c for _pk, c, _at in waiting if c] + [client_id or 0], setting)
    state = routing.make_state(configs.values())
    last = Call.objects.filter(queue=queue, operator__isnull=False).order_by("-started_at")
    last_id = last.values_list("operator_id", flat=True).first()
    if last_id is not None:
        state.rr_last[queue] = last_id
    for pk, owner, at in waiting:  # queued first, with nobody free: they keep their order
        routing.arrive(state, _waiting_call(pk, queue, facts.get(owner or 0), at), at.timestamp())
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for op in sorted(operators(queue, config.strategy, day), key=lambda o: o.idle_since):
        if op.id in taken:
            op.state = routing.AgentState.BUSY
        routing.add_operator(state, op)
    routing.assign(state, now.timestamp())  # free operators take what already waited
    mine = facts.get(client_id or 0, Facts())
    call = _waiting_call(0, queue, mine, arrived)
    chosen = routing.arrive(state, call, now.timestamp())
    return Decision(
        operator_id=chosen.id if chosen else None,
        extension=_extension(chosen.id) if chosen else "",
        priority=call.priority,
        client_id=client_id,
        facts=mine,
    )


def _waiting_call(
    pk: int, queue: str, facts: Facts | None, arrived: dt.datetime
) -> routing.WaitingCall:
    facts = facts or Facts()
    return routing.WaitingCall(
        id=pk,
        queue=queue,
        abc_class=facts.abc,
        vip=facts.vip,
        sticky_operator_id=facts.sticky_operator_id,
        arrived_at=arrived.timestamp(),
    )
