"""The ACD router: which operators may take a call, who gets it, which waiting call goes first.

A pure module — plain dataclasses in, decisions out, no database, no clock, no randomness — so
the live path (telephony events) and the simulator run exactly the same code. The caller owns
time: every entry point takes `now` in seconds.

Routing is in two steps. First, who *may* take a call: its requirement tiers, tried in order:

1. the sticky operator (the client's owner or the owner of an open deal), if one is set; during
   the queue's `sticky_wait_s` the call waits for that operator alone;
2. the skills and minimum levels the call (or else its queue) requires;
3. each overflow step whose `after_wait_s` has passed: a widened requirement (lower levels) or
   another queue's requirement;
4. supervisors, once the call has waited `escalate_after_s`.

The first tier with an available operator wins; supervisors take calls only through their
tier (they stay free for escalations) or as a sticky owner. Second, *who gets it* within the
tier: the queue's strategy (longest idle, fewest calls, round robin, highest skill level).
An operator who becomes free takes the first waiting call, in the order of `priority()`
(ABC class, VIP, escalation) and then of arrival, that lists them in any of its tiers.

Speed: available operators are indexed by skill in insertion-ordered dicts, so "longest idle"
is the first operator of the smallest pool that meets the requirement (the order holds while
operators become free in time order; if a caller breaks it, the strategy falls back to a scan).
Waiting calls sit in one list sorted by (−priority, arrival) and, again, in one sorted list per
tier (requirement, sticky operator, escalated); a freed operator compares the heads of the
groups it may serve — those filed under one of its skills — instead of scanning every call.
Time-driven changes (overflow, escalation, the end of a sticky wait) are kept in a heap and
applied by `assign()`.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter


class AgentState(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    WRAP_UP = "wrap_up"  # after-call work
    PAUSED = "paused"
    OFFLINE = "offline"


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    FEWEST_CALLS = "fewest_calls"
    ROUND_ROBIN = "round_robin"
    SKILL_LEVEL = "skill_level"


# Priority from CRM data (documented in docs/staffing.md): a VIP outranks any ABC class, the ABC
# class orders the rest, and an escalated call outranks everything that has not escalated.
ABC_PRIORITY = {"A": 2, "B": 1, "C": 0}
VIP_PRIORITY = 4
ESCALATED_PRIORITY = 8
_ABC = ABC_PRIORITY | {k.lower(): v for k, v in ABC_PRIORITY.items()} | {"": 0}

Requirement = tuple[tuple[str, int], ...]  # ((skill, minimum level), ...), sorted
# Tier markers, compared by identity; shaped as requirements so every tier has one type.
_STICKY: Requirement = (("\0sticky", 0),)
_SUPERVISORS: Requirement = (("\0supervisors", 0),)
Tier = Requirement


def priority(abc_class: str = "", vip: bool = False, escalated: bool = False) -> int:
    """Higher goes first: A 2, B 1, C or unknown 0; +4 for a VIP; +8 once escalated."""
    return (
        ABC_PRIORITY.get(abc_class.upper(), 0)
        + (VIP_PRIORITY if vip else 0)
        + (ESCALATED_PRIORITY if escalated else 0)
    )


def requirement(skills: Mapping[str, int] | None) -> Requirement:
    return tuple(sorted((skills or {}).items()))


@dataclass(slots=True, eq=False)
class Operator:
    id: int
    skills: dict[str, int] = field(default_factory=dict)
    state: AgentState = AgentState.OFFLINE
    idle_since: float = 0.0
    calls_taken: int = 0
    is_supervisor: bool = False


@dataclass(frozen=True, slots=True)
class Overflow:
    after_wait_s: float
    required: Mapping[str, int] | None = None  # a widened requirement …
    queue: str | None = None  # … or the requirement of another queue


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: str
    required: Mapping[str, int] = field(default_factory=dict)
    strategy: Strategy = Strategy.LONGEST_IDLE
    overflow: tuple[Overflow, ...] = ()
    escalate_after_s: float | None = None
    sticky_wait_s: float = 0.0  # how long a call waits for its sticky operator alone


@dataclass(slots=True, eq=False)
class WaitingCall:
    id: int
    queue: str
    required: Mapping[str, int] | None = None  # None: what the queue requires
    abc_class: str = ""
    vip: bool = False
    sticky_operator_id: int | None = None
    arrived_at: float = 0.0
    # The router's working fields, set by arrive():
    priority: int = field(default=0, init=False)
    escalated: bool = field(default=False, init=False)
    tiers: tuple[Tier, ...] = field(default=(), init=False)
    key: tuple[int, float, int] = field(default=(0, 0.0, 0), init=False)
    waiting: bool = field(default=False, init=False)


_KEY = attrgetter("key")


@dataclass(eq=False)
class RouterState:
    queues: dict[str, QueueConfig]
    operators: dict[int, Operator] = field(default_factory=dict)
    available: dict[int, Operator] = field(default_factory=dict)  # everyone free, by id
    agents: dict[int, Operator] = field(default_factory=dict)  # free non-supervisors
    by_skill: dict[str, dict[int, Operator]] = field(default_factory=dict)
    supervisors: dict[int, Operator] = field(default_factory=dict)
    waiting: list[WaitingCall] = field(default_factory=list)  # sorted by WaitingCall.key
    # The same calls grouped by tier, each group sorted by key: a freed operator looks only at
    # the groups it may serve (skills groups listed under their first skill, "" for none).
    groups: dict[Requirement, list[WaitingCall]] = field(default_factory=dict)
    groups_by_skill: dict[str, set[Requirement]] = field(default_factory=dict)
    sticky_groups: dict[int, list[WaitingCall]] = field(default_factory=dict)
    escalated: list[WaitingCall] = field(default_factory=list)
    timers: list[tuple[float, int, WaitingCall]] = field(default_factory=list)
    rr_last: dict[str, int] = field(default_factory=dict)
    in_order: bool = True  # `available` is in idle_since order
    last_idle: float = -math.inf
    dirty: bool = False  # operators were made available without routing: assign() rescans
    seq: int = 0
    base_tiers: dict[str, tuple[Tier, ...]] = field(default_factory=dict)
    simple: dict[str, bool] = field(default_factory=dict)  # no time-driven changes
    overflow_tiers: dict[str, list[tuple[float, Requirement]]] = field(default_factory=dict)


def make_state(queues: Iterable[QueueConfig], operators: Iterable[Operator] = ()) -> RouterState:
    """A router over these queues; operators already AVAILABLE are free, longest idle first."""
    state = RouterState(queues={q.name: q for q in queues})
    for q in state.queues.values():
        for step in q.overflow:
            if step.queue is not None and step.queue not in state.queues:
                raise ValueError(f"overflow: unknown queue {step.queue!r} in {q.name!r}")
        state.base_tiers[q.name] = (requirement(q.required),)
        steps = sorted(q.overflow, key=attrgetter("after_wait_s"))
        state.overflow_tiers[q.name] = [
            (
                s.after_wait_s,
                requirement(s.required if s.queue is None else state.queues[s.queue].required),
            )
            for s in steps
        ]
        state.simple[q.name] = not q.overflow and q.escalate_after_s is None
    for op in sorted(operators, key=attrgetter("idle_since")):
        add_operator(state, op)
    return state


def add_operator(state: RouterState, op: Operator) -> None:
    state.operators[op.id] = op
    if op.state is AgentState.AVAILABLE:
        _add_available(state, op)
        state.dirty = True


def remove_operator(state: RouterState, op_id: int) -> None:
    op = state.operators.pop(op_id, None)
    if op is not None and op.id in state.available:
        _drop_available(state, op)


def set_state(state: RouterState, op: Operator, new: AgentState, now: float) -> None:
    """Log in, pause, go offline… without routing; call assign() afterwards."""
    if op.id in state.available:
        _drop_available(state, op)
    op.state = new
    if new is AgentState.AVAILABLE:
        op.idle_since = now
        _add_available(state, op)
        state.dirty = True


def _add_available(state: RouterState, op: Operator) -> None:
    if not state.available:
        state.in_order, state.last_idle = True, -math.inf
    if op.idle_since < state.last_idle:
        state.in_order = False
    state.last_idle = op.idle_since
    state.available[op.id] = op
    if op.is_supervisor:
        state.supervisors[op.id] = op
        return
    state.agents[op.id] = op
    by_skill = state.by_skill
    for skill in op.skills:
        pool = by_skill.get(skill)
        if pool is None:
            by_skill[skill] = {op.id: op}
        else:
            pool[op.id] = op


def _drop_available(state: RouterState, op: Operator) -> None:
    del state.available[op.id]
    if op.is_supervisor:
        del state.supervisors[op.id]
        return
    del state.agents[op.id]
    by_skill = state.by_skill
    for skill in op.skills:
        del by_skill[skill][op.id]


# Who may take a call.


def _tiers(state: RouterState, q: QueueConfig, call: WaitingCall, now: float) -> float:
    """Set call.tiers, .escalated, .priority as they stand at `now`; return when they change
    next (math.inf: never). Thresholds are compared as absolute times, the same sums the timers
    were scheduled at, so a timer firing at its time always sees its change."""
    start = call.arrived_at
    sticky = call.sticky_operator_id is not None
    escalate = q.escalate_after_s
    escalated = call.escalated = escalate is not None and start + escalate <= now
    abc = _ABC.get(call.abc_class)  # priority(), inlined: this runs for every call
    if abc is None:
        abc = ABC_PRIORITY.get(call.abc_class.strip().upper(), 0)
    call.priority = (
        abc + (VIP_PRIORITY if call.vip else 0) + (ESCALATED_PRIORITY if escalated else 0)
    )
    if call.required is None and not sticky and state.simple[q.name]:
        call.tiers = state.base_tiers[q.name]
        return math.inf
    if sticky and now < start + q.sticky_wait_s:
        call.tiers = (_STICKY,)
        return start + q.sticky_wait_s
    own = state.base_tiers[q.name][0] if call.required is None else requirement(call.required)
    tiers = [_STICKY, own] if sticky else [own]
    later = math.inf
    for after, widened in state.overflow_tiers[q.name]:  # in order of after_wait_s
        if start + after <= now:
            tiers.append(widened)
        else:
            later = start + after
            break
    if escalated:
        tiers.append(_SUPERVISORS)
    elif escalate is not None and start + escalate < later:
        later = start + escalate
    call.tiers = tuple(tiers)
    return later


def _meets(skills: dict[str, int], req: Requirement) -> bool:
    # A plain loop: all() over a generator costs twice as much on this hot path.
    for skill, level in req:  # noqa: SIM110
        if skills.get(skill, -1) < level:
            return False
    return True


def may_take(op: Operator, call: WaitingCall) -> bool:
    """Whether the operator is listed in any of the call's current tiers."""
    for tier in call.tiers:
        if tier is _STICKY:
            if op.id == call.sticky_operator_id:
                return True
        elif tier is _SUPERVISORS:
            if op.is_supervisor:
                return True
        elif not op.is_supervisor and _meets(op.skills, tier):
            return True
    return False


def _pool(state: RouterState, req: Requirement) -> dict[int, Operator] | None:
    """The smallest index that holds every available operator meeting `req`."""
    if not req:
        return state.agents
    best = None
    by_skill = state.by_skill
    for skill, _level in req:
        pool = by_skill.get(skill)
        if not pool:
            return None
        if best is None or len(pool) < len(best):
            best = pool
    return best


def _tier_candidates(state: RouterState, call: WaitingCall, tier: Tier) -> list[Operator]:
    if tier is _STICKY:
        op = state.available.get(call.sticky_operator_id or 0)
        return [op] if op is not None else []
    if tier is _SUPERVISORS:
        return list(state.supervisors.values())
    pool = _pool(state, tier)
    if not pool:
        return []
    return [op for op in pool.values() if _meets(op.skills, tier)]


def eligible(state: RouterState, call: WaitingCall) -> list[Operator]:
    """The available operators who may take the call now: those of its first tier that has any."""
    for tier in call.tiers:
        candidates = _tier_candidates(state, call, tier)
        if candidates:
            return candidates
    return []


# Who gets it.


def _by_strategy(
    state: RouterState, q: QueueConfig, tier: Tier, candidates: list[Operator]
) -> Operator:
    strategy = q.strategy
    if strategy is Strategy.FEWEST_CALLS:
        return min(candidates, key=lambda op: (op.calls_taken, op.idle_since, op.id))
    if strategy is Strategy.ROUND_ROBIN:
        last = state.rr_last.get(q.name, -math.inf)
        after = [op for op in candidates if op.id > last]
        return min(after or candidates, key=attrgetter("id"))
    if strategy is Strategy.SKILL_LEVEL and tier is not _SUPERVISORS:
        skills = [s for s, _level in tier]
        return min(
            candidates,
            key=lambda op: (-sum(op.skills.get(s, 0) for s in skills), op.idle_since, op.id),
        )
    return min(candidates, key=lambda op: (op.idle_since, op.id))


def choose_operator(state: RouterState, call: WaitingCall) -> Operator | None:
    """Who gets the call among the available operators (without assigning it)."""
    return _choose(state, state.queues[call.queue], call)


def _choose(state: RouterState, q: QueueConfig, call: WaitingCall) -> Operator | None:
    fast = q.strategy is Strategy.LONGEST_IDLE and state.in_order
    for tier in call.tiers:
        if tier is _STICKY:
            op = state.available.get(call.sticky_operator_id or 0)
            if op is not None:
                return op
            continue
        if fast and tier is not _SUPERVISORS:
            # Longest idle in order: the first of the pool that qualifies; no list, no sort.
            pool = _pool(state, tier)
            if pool:
                if not tier:
                    return next(iter(pool.values()))
                for op in pool.values():
                    if _meets(op.skills, tier):
                        return op
            continue
        candidates = _tier_candidates(state, call, tier)
        if candidates:
            return _by_strategy(state, q, tier, candidates)
    return None


def next_call(state: RouterState, op: Operator) -> WaitingCall | None:
    """Which waiting call the operator takes: the first it may take in priority, then wait order.

    The head of every group the operator may serve, the best of them by key: a handful of
    groups instead of every waiting call."""
    best = None
    own = state.sticky_groups.get(op.id)
    if own:
        best = own[0]
    if op.is_supervisor:
        heads = [state.escalated[0]] if state.escalated else []
    else:
        heads = []
        skills, groups, by_skill = op.skills, state.groups, state.groups_by_skill
        for skill in (*skills, ""):
            for req in by_skill.get(skill, ()):
                if _meets(skills, req):
                    heads.append(groups[req][0])
    for head in heads:
        if best is None or head.key < best.key:
            best = head
    return best


# Events: the live path and the simulator call these.


def _match(state: RouterState, call: WaitingCall, op: Operator) -> None:
    if op.id in state.available:
        _drop_available(state, op)
    op.state = AgentState.BUSY
    op.calls_taken += 1
    state.rr_last[call.queue] = op.id


def _group(state: RouterState, call: WaitingCall, tier: Tier) -> list[WaitingCall]:
    """The group list a tier puts the call in, created if missing."""
    if tier is _STICKY:
        return state.sticky_groups.setdefault(call.sticky_operator_id or 0, [])
    if tier is _SUPERVISORS:
        return state.escalated
    group = state.groups.get(tier)
    if group is None:
        group = state.groups[tier] = []
        state.groups_by_skill.setdefault(tier[0][0] if tier else "", set()).add(tier)
    return group


def _remove(calls: list[WaitingCall], call: WaitingCall) -> None:
    i = bisect_left(calls, call.key, key=_KEY)
    if i == len(calls) or calls[i] is not call:  # keys are unique: they end with a sequence no.
        raise LookupError(f"call {call.id} is not where the router filed it")
    del calls[i]


def _enqueue(state: RouterState, call: WaitingCall) -> None:
    insort(state.waiting, call, key=_KEY)
    for tier in call.tiers:
        insort(_group(state, call, tier), call, key=_KEY)
    call.waiting = True


def _unqueue(state: RouterState, call: WaitingCall) -> None:
    _remove(state.waiting, call)
    for tier in call.tiers:
        group = _group(state, call, tier)
        _remove(group, call)
        if group or tier is _SUPERVISORS:
            continue
        if tier is _STICKY:
            del state.sticky_groups[call.sticky_operator_id or 0]
        else:
            del state.groups[tier]
            first = tier[0][0] if tier else ""
            state.groups_by_skill[first].discard(tier)
    call.waiting = False


def arrive(state: RouterState, call: WaitingCall, now: float) -> Operator | None:
    """A call enters its queue: the operator it is put through to, or None if it waits."""
    q = state.queues.get(call.queue)
    if q is None:
        raise ValueError(f"queue: unknown queue {call.queue!r}")
    change = _tiers(state, q, call, now)
    if state.available:
        op = _choose(state, q, call)
        if op is not None:
            _match(state, call, op)
            return op
    state.seq += 1
    call.key = (-call.priority, call.arrived_at, state.seq)
    _enqueue(state, call)
    if change != math.inf:
        heapq.heappush(state.timers, (change, state.seq, call))
    return None


def release(state: RouterState, op: Operator, now: float) -> WaitingCall | None:
    """The operator is free (after a call, its wrap-up, or a pause): the call it takes, or None."""
    if op.id in state.available:
        _drop_available(state, op)
    op.state = AgentState.AVAILABLE
    op.idle_since = now
    if state.waiting:
        call = next_call(state, op)
        if call is not None:
            _unqueue(state, call)
            _match(state, call, op)
            return call
    _add_available(state, op)
    return None


def abandon(state: RouterState, call: WaitingCall) -> bool:
    """The caller hung up; False if the call was no longer waiting."""
    if not call.waiting:
        return False
    _unqueue(state, call)
    return True


def next_timer(state: RouterState) -> float | None:
    """When assign() next has work to do because a waiting call's tiers change."""
    timers = state.timers
    while timers and not timers[0][2].waiting:
        heapq.heappop(timers)
    return timers[0][0] if timers else None


def assign(state: RouterState, now: float) -> list[tuple[WaitingCall, Operator]]:
    """Apply the time-driven changes due by `now` and route what they (or set_state) made
    possible; returns the (call, operator) pairs it put through."""
    changed: list[WaitingCall] = []
    timers = state.timers
    while timers and timers[0][0] <= now:
        _at, _seq, call = heapq.heappop(timers)
        if not call.waiting:
            continue
        _unqueue(state, call)
        change = _tiers(state, state.queues[call.queue], call, now)
        call.key = (-call.priority, call.arrived_at, call.key[2])
        _enqueue(state, call)
        changed.append(call)
        if change != math.inf:
            heapq.heappush(timers, (change, call.key[2], call))
    if state.dirty:
        state.dirty = False
        changed = list(state.waiting)
    else:
        changed.sort(key=_KEY)
    pairs = []
    for call in changed:
        if not state.available:
            break
        op = _choose(state, state.queues[call.queue], call)
        if op is not None:
            _unqueue(state, call)
            _match(state, call, op)
            pairs.append((call, op))
    return pairs
