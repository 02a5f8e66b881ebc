"""The two routing questions: who may take a call (its tiers), and who gets it (the strategy);
and the third: which waiting call a freed operator takes."""

from __future__ import annotations

import math
from operator import attrgetter

from kartoteka.callcenter.routing.types import (
    _ABC,
    _STICKY,
    _SUPERVISORS,
    ABC_PRIORITY,
    ESCALATED_PRIORITY,
    VIP_PRIORITY,
    Operator,
    QueueConfig,
    Requirement,
    RouterState,
    Strategy,
    Tier,
    WaitingCall,
    requirement,
)

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
    # Longest idle; among equals the one that became free first (the pools keep that order), as
    # on the fast path.
    return min(candidates, key=attrgetter("idle_since"))


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
