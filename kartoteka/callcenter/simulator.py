"""A discrete-event simulator of the contact centre that routes every call with the real router.

Arrivals are Poisson (a rate) or recorded (a list of times); handle times, patience and
after-call work are exponential (given a mean) or empirical (given samples to draw from); calls
come in types (queue, required skills, ABC class, VIP, sticky operator) drawn by weight.
Every routing decision is `routing.arrive`, `routing.release`, `routing.abandon` or
`routing.assign` — the functions the live path calls — so what the simulator measures is what
the router does.

The event loop keeps the next arrival outside the heap and codes the other events as integers
(`slot·4 + kind` for an operator's end of talk or of wrap-up, `−(call id + 1)` for a caller's
patience running out), so the heap holds (time, int) pairs and no event objects. A call object
that was put through at once is reused for the next arrival of its type.

Measures are taken over the calls after the warm-up share (the queue starts empty):
probability of wait = calls that queued / offered; service level = answered within answer_s /
offered; ASA = mean wait of the answered; abandonment = abandoned / offered; occupancy = time
operators spent busy (talk and wrap-up) / (operators × time), both between the first measured
arrival and the last arrival.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from heapq import heappop, heappush
from itertools import accumulate

import numpy as np

from kartoteka.callcenter.routing import (
    AgentState,
    Operator,
    QueueConfig,
    WaitingCall,
    abandon,
    arrive,
    assign,
    make_state,
    release,
    set_state,
)

Dist = float | Sequence[float]  # a mean (exponential) or samples (empirical)
_TALK_END, _WRAP_END = 0, 1
_CHUNK = 4096


@dataclass(frozen=True, slots=True)
class CallType:
    weight: float = 1.0
    queue: str = "default"
    required: dict[str, int] | None = None
    abc_class: str = ""
    vip: bool = False
    sticky_operator_id: int | None = None


@dataclass(frozen=True, slots=True)
class SimConfig:
    calls: int = 10_000  # arrivals to simulate (recorded arrivals: at most that many)
    arrival_rate: float | None = None  # calls per second, Poisson
    arrivals: Sequence[float] | None = None  # or recorded arrival times, seconds, ascending
    handle_s: Dist = 180.0
    patience_s: Dist | None = None  # None: callers never hang up
    acw_s: Dist | None = None  # after-call work
    agents: int = 0  # identical agents with no skills …
    operators: Sequence[Operator] = ()  # … or these (copied; the originals are not touched)
    queues: Sequence[QueueConfig] = field(default_factory=lambda: (QueueConfig("default"),))
    call_types: Sequence[CallType] = (CallType(),)
    answer_s: float = 20.0
    warmup: float = 0.1  # share of the first calls left out of the measures
    seed: int = 1


@dataclass(frozen=True, slots=True)
class TypeResult:
    """The measures of one call type (in `SimResult.by_type`, in the order of `call_types`)."""

    calls: int
    service_level: float
    asa_s: float
    abandonment: float


@dataclass(frozen=True, slots=True)
class SimResult:
    agents: int
    calls: int  # measured (after the warm-up)
    answered: int
    abandoned: int
    probability_of_wait: float
    service_level: float
    asa_s: float
    occupancy: float
    abandonment: float
    simulated_s: float
    by_type: tuple[TypeResult, ...] = ()


def _stream(draw: Callable[[int], np.ndarray]) -> Callable[[], float]:
    """One value per call, drawn by numpy in chunks: a C-level generator step per value
    instead of a Python-level random.expovariate."""

    def values() -> Iterator[float]:
        while True:
            yield from draw(_CHUNK).tolist()

    return values().__next__


def sampler(gen: np.random.Generator, dist: Dist, name: str) -> Callable[[], float]:
    if isinstance(dist, int | float):
        if not dist > 0 or not math.isfinite(dist):
            raise ValueError(f"{name}: the mean must be a positive number")
        mean = float(dist)
        return _stream(lambda n: gen.exponential(mean, n))
    samples = np.asarray([float(v) for v in dist])
    if not len(samples) or not np.all(np.isfinite(samples)) or samples.min() < 0:
        raise ValueError(f"{name}: give at least one sample, none negative")
    return _stream(lambda n: gen.choice(samples, n))


def _operators(config: SimConfig) -> list[Operator]:
    source = config.operators or [Operator(k) for k in range(config.agents)]
    if not source:
        raise ValueError("agents: at least one operator is needed")
    return [
        Operator(op.id, dict(op.skills), AgentState.AVAILABLE, 0.0, 0, op.is_supervisor)
        for op in source
    ]


def _arrival_times(config: SimConfig, gen: np.random.Generator) -> Callable[[], float]:
    if config.arrivals is not None:
        times = iter([float(t) for t in config.arrivals][: config.calls])
        return lambda: next(times, math.inf)
    rate = config.arrival_rate
    if not rate or not rate > 0 or not math.isfinite(rate):
        raise ValueError("arrival_rate: give a positive rate or recorded arrivals")
    gap = _stream(lambda n: gen.exponential(1.0 / rate, n))

    def poisson() -> Iterator[float]:
        t = 0.0
        while True:
            t += gap()
            yield t

    return poisson().__next__


def _check(config: SimConfig) -> None:
    if config.calls < 1:
        raise ValueError("calls: simulate at least one call")
    if not 0 <= config.warmup < 1:
        raise ValueError("warmup: a share from 0 to below 1")
    if not config.answer_s >= 0:
        raise ValueError("answer_s: must not be negative")
    names = {q.name for q in config.queues}
    if not config.call_types or any(t.weight < 0 for t in config.call_types):
        raise ValueError("call_types: give at least one, with weights not negative")
    if not sum(t.weight for t in config.call_types) > 0:
        raise ValueError("call_types: the weights add up to zero")
    unknown = [t.queue for t in config.call_types if t.queue not in names]
    if unknown:
        raise ValueError(f"call_types: unknown queue {unknown[0]!r}")


def simulate(config: SimConfig) -> SimResult:
    _check(config)
    rng = np.random.default_rng(config.seed)
    ops = _operators(config)
    slot = {op.id: k for k, op in enumerate(ops)}
    state = make_state(config.queues, ops)
    handle = sampler(rng, config.handle_s, "handle_s")
    acw = sampler(rng, config.acw_s, "acw_s") if config.acw_s is not None else None
    patience = (
        sampler(rng, config.patience_s, "patience_s") if config.patience_s is not None else None
    )
    next_arrival = _arrival_times(config, rng)
    types = list(config.call_types)
    cumulative = list(accumulate(t.weight for t in types))
    draw = _stream(rng.random)
    spare: list[WaitingCall | None] = [None] * len(types)
    total = len(config.arrivals) if config.arrivals is not None else config.calls
    total = min(total, config.calls)
    warm = int(config.warmup * total)
    answer_s = config.answer_s
    timers = state.timers

    heap: list[tuple[float, int]] = []
    pending: dict[int, WaitingCall] = {}  # queued calls that may still hang up
    wrap = [0.0] * len(ops)  # the wrap-up drawn for each operator's current call
    answered = within = queued = abandoned = 0
    wait_sum = 0.0
    t_first = t_last = 0.0
    # Occupancy: the area under "operators busy (talk or wrap-up)" between the first measured
    # arrival and the last arrival, kept up to date when the count changes.
    busy_n, area, last, area_first, area_last = 0, 0.0, 0.0, 0.0, 0.0
    # Per call type, only when there are several: [offered, answered, within, abandoned, wait].
    multi = len(types) > 1
    kinds = [0] * total if multi else []
    per_type = [[0.0] * 5 for _ in types]

    def start(op: Operator, call_id: int, now: float, wait: float) -> None:
        nonlocal answered, within, wait_sum
        talk = handle()
        k = slot[op.id]
        after = acw() if acw is not None else 0.0
        wrap[k] = after
        heappush(heap, (now + talk, k * 4 + _TALK_END))
        if call_id >= warm:
            answered += 1
            if wait <= answer_s:
                within += 1
            wait_sum += wait
            if multi:
                figures = per_type[kinds[call_id]]
                figures[1] += 1
                figures[2] += wait <= answer_s
                figures[4] += wait

    i = 0
    t_arrival = next_arrival() if total else math.inf
    while True:
        t = heap[0][0] if heap else math.inf
        if timers and timers[0][0] <= min(t, t_arrival):
            at = timers[0][0]
            for call, op in assign(state, at):
                area, last, busy_n = area + busy_n * (at - last), at, busy_n + 1
                pending.pop(call.id, None)
                start(op, call.id, at, at - call.arrived_at)
            continue
        if t_arrival <= t:
            if t_arrival == math.inf:
                break
            now = t_arrival
            kind = bisect_right(cumulative, draw() * cumulative[-1]) if len(types) > 1 else 0
            reuse = spare[kind]
            if reuse is None:
                ct = types[kind]
                call = WaitingCall(
                    i, ct.queue, ct.required, ct.abc_class, ct.vip, ct.sticky_operator_id, now
                )
            else:
                call = reuse
                call.id, call.arrived_at = i, now
            if i == warm or i == total - 1:
                area, last = area + busy_n * (now - last), now
                if i == warm:
                    t_first, area_first = now, area
                if i == total - 1:
                    area_last = area
            if multi:
                kinds[i] = kind
                per_type[kind][0] += i >= warm
            t_last = now
            put_through = arrive(state, call, now)
            if put_through is not None:
                area, last, busy_n = area + busy_n * (now - last), now, busy_n + 1
                spare[kind] = call
                start(put_through, i, now, 0.0)
            else:
                spare[kind] = None
                if i >= warm:
                    queued += 1
                if patience is not None:
                    pending[i] = call
                    heappush(heap, (now + patience(), -i - 1))
            i += 1
            t_arrival = next_arrival() if i < total else math.inf
            continue
        now, code = heappop(heap)
        if code < 0:  # a caller's patience ran out
            gone = pending.pop(-code - 1, None)
            if gone is not None and abandon(state, gone) and gone.id >= warm:
                abandoned += 1
                if multi:
                    per_type[kinds[gone.id]][3] += 1
            continue
        freed = ops[code >> 2]
        if code & 3 == _TALK_END and wrap[code >> 2] > 0.0:
            set_state(state, freed, AgentState.WRAP_UP, now)
            heappush(heap, (now + wrap[code >> 2], (code & ~3) | _WRAP_END))
            continue
        taken = release(state, freed, now)
        if taken is not None:
            pending.pop(taken.id, None)
            start(freed, taken.id, now, now - taken.arrived_at)
        else:
            area, last, busy_n = area + busy_n * (now - last), now, busy_n - 1

    measured = total - warm
    span = max(t_last - t_first, 1e-9)
    return SimResult(
        agents=len(ops),
        calls=measured,
        answered=answered,
        abandoned=abandoned,
        probability_of_wait=queued / measured if measured else 0.0,
        service_level=within / measured if measured else 1.0,
        asa_s=wait_sum / answered if answered else math.inf,
        occupancy=(area_last - area_first) / (len(ops) * span),
        abandonment=abandoned / measured if measured else 0.0,
        simulated_s=t_last,
        by_type=tuple(_type_result(f) for f in per_type) if multi else (),
    )


def _type_result(figures: list[float]) -> TypeResult:
    offered, answered, within, abandoned, wait = figures
    return TypeResult(
        calls=int(offered),
        service_level=within / offered if offered else 1.0,
        asa_s=wait / answered if answered else math.inf,
        abandonment=abandoned / offered if offered else 0.0,
    )
