"""Bookkeeping: operators in and out of the available indexes, calls in and out of the waiting
list and its per-tier groups."""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_left, insort
from collections.abc import Iterable
from operator import attrgetter

from kartoteka.callcenter.routing.types import (
    _KEY,
    _STICKY,
    _SUPERVISORS,
    AgentState,
    Operator,
    QueueConfig,
    RouterState,
    Strategy,
    Tier,
    WaitingCall,
    requirement,
)


def _checked(q: QueueConfig) -> QueueConfig:
    """The queue with its strategy as the enum (the router compares by identity); plain strings
    from a model's choices are accepted."""
    try:
        strategy = Strategy(q.strategy)
    except ValueError:
        raise ValueError(
            f"strategy: unknown routing strategy {q.strategy!r} in {q.name!r}"
        ) from None
    if any(not step.after_wait_s >= 0 for step in q.overflow):
        raise ValueError(f"overflow: after_wait_s must not be negative in {q.name!r}")
    if step := next((s for s in q.overflow if (s.required is None) == (s.queue is None)), None):
        raise ValueError(f"overflow: give a widened requirement or a queue, not both ({step})")
    return dataclasses.replace(q, strategy=strategy)


def make_state(queues: Iterable[QueueConfig], operators: Iterable[Operator] = ()) -> RouterState:
    """A router over these queues; operators already AVAILABLE are free, longest idle first."""
    state = RouterState(queues={q.name: _checked(q) for q in queues})
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
    op.state = AgentState(op.state)  # a plain string from a model's choices becomes the enum
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
