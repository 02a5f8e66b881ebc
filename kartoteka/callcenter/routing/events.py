"""The entry points the live path and the simulator call: a call arrives, an operator frees up,
a caller hangs up, the clock ticks."""

from __future__ import annotations

import heapq
import math

from kartoteka.callcenter.routing.decide import _choose, _tiers, next_call
from kartoteka.callcenter.routing.state import (
    _add_available,
    _drop_available,
    _enqueue,
    _match,
    _unqueue,
)
from kartoteka.callcenter.routing.types import (
    _KEY,
    AgentState,
    Operator,
    RouterState,
    WaitingCall,
)


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
