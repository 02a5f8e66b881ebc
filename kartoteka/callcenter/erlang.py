"""Erlang C (M/M/n) and Erlang A (M/M/n+M) staffing: pure functions, no I/O.

Traffic is `calls` arriving in `interval_s` seconds, each taking `aht_s` seconds to handle
(talk plus after-call work); the offered load is a = calls · aht_s / interval_s Erlangs.
Without a patience the callers wait forever (Erlang C); with a mean patience they hang up after
an exponential time (Erlang A, Palm's model).

Numerics: Erlang B by its recurrence B(k) = a·B(k−1) / (k + a·B(k−1)) — no factorials, so no
overflow at 2,000 Erlangs — kept in a table that grows as the staffing search climbs, so each
probe after the first costs O(1). Erlang A through A(x, y) = Σ_j y^j / ∏_{k≤j}(x+k), which is
the lower incomplete gamma function in disguise (A = x·e^y·y^−x·γ(x, y)); it is evaluated in
logarithms (`log_a`) so that an overloaded queue does not overflow. docs/staffing.md derives
every formula used here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kartoteka.callcenter.gamma import harmonic, log_a

MAX_AGENTS = 1_000_000
# Erlang A sums O(√(λ·patience)) terms: beyond this the callers effectively never hang up.
MAX_PATIENCE_CALLS = 1e9
# ceil() of a ratio computed in floating point: 14 / 0.7 is 20.000000000000004.
_CEIL_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Traffic:
    calls: float
    interval_s: float
    aht_s: float
    patience_s: float | None = None  # mean patience; None: callers never hang up (Erlang C)

    @property
    def load(self) -> float:
        """Offered load in Erlangs."""
        return self.calls * self.aht_s / self.interval_s

    @property
    def erlang_a(self) -> bool:
        return self.patience_s is not None


@dataclass(frozen=True, slots=True)
class Measures:
    agents: int
    probability_of_wait: float  # an arriving call finds every agent busy
    service_level: float  # calls answered within answer_s / all offered calls
    asa_s: float  # mean wait of the answered calls; math.inf when the queue grows forever
    occupancy: float  # busy time / staffed time
    abandonment: float  # calls that hung up while waiting / offered calls


@dataclass(frozen=True, slots=True)
class Target:
    service_level: float | None = None  # e.g. 0.8 …
    answer_s: float = 20.0  # … of the calls answered within 20 s
    asa_s: float | None = None  # or a mean speed of answer
    max_occupancy: float = 1.0
    shrinkage: float = 0.0  # breaks, training, absence: scheduled = agents / (1 − shrinkage)


@dataclass(frozen=True, slots=True)
class Staffing:
    agents: int  # on the phones
    scheduled_agents: int  # on the roster, shrinkage included
    measures: Measures


class ErlangB:
    """B(n, a) for any n, from a table that the recurrence extends on demand."""

    __slots__ = ("load", "values")

    def __init__(self, load: float) -> None:
        self.load = load
        self.values = [1.0]

    def __call__(self, n: int) -> float:
        values = self.values
        if n >= len(values):
            a, b = self.load, values[-1]
            append = values.append
            for k in range(len(values), n + 1):
                b = a * b / (k + a * b)
                append(b)
        return values[n]


def erlang_b(n: int, load: float) -> float:
    """Blocking probability of n servers offered `load` Erlangs with no queue."""
    return ErlangB(load)(n)


def erlang_c(n: int, load: float, b: float | None = None) -> float:
    """Probability that a call waits (M/M/n); 1 when the queue is unstable (n ≤ load)."""
    if n <= load:
        return 1.0
    if b is None:
        b = erlang_b(n, load)
    return n * b / (n - load * (1.0 - b))


def scheduled(agents: int, shrinkage: float) -> int:
    return math.ceil(agents / (1.0 - shrinkage) - _CEIL_SLACK)


def _zero_load(agents: int) -> Measures:
    return Measures(agents, 0.0, 1.0, 0.0, 0.0, 0.0)


def _measures_c(traffic: Traffic, agents: int, answer_s: float, table: ErlangB) -> Measures:
    a = traffic.load
    if agents <= a:
        return Measures(agents, 1.0, 0.0, math.inf, 1.0, 0.0)
    c = erlang_c(agents, a, table(agents))
    spare = agents - a
    sl = 1.0 - c * math.exp(-spare * answer_s / traffic.aht_s)
    return Measures(agents, c, sl, c * traffic.aht_s / spare, a / agents, 0.0)


def _measures_a(traffic: Traffic, agents: int, answer_s: float, table: ErlangB) -> Measures:
    a = traffic.load
    patience = traffic.patience_s
    assert patience is not None
    if agents == 0:
        return Measures(0, 1.0, 0.0, math.inf, 0.0, 1.0)
    x = agents * patience / traffic.aht_s  # n·μ/θ
    y = a * patience / traffic.aht_s  # λ/θ
    if max(x, y) > MAX_PATIENCE_CALLS:
        raise ValueError(
            "patience_s: so long that callers never hang up; use Erlang C (leave it out)"
        )
    b = table(agents)
    log_big_a = log_a(x, y)
    if b == 0.0:  # far more agents than calls: B underflowed, nobody waits
        return Measures(agents, 0.0, 1.0, 0.0, a / agents, 0.0)
    # P(wait) = 1 / (1 + r), r = (1 − B) / (B·A), with r taken as a logarithm: B can be 1e-300.
    log_r = math.log1p(-b) - math.log(b) - log_big_a if b < 1.0 else -math.inf
    p_wait = (
        math.exp(-log_r) / (1.0 + math.exp(-log_r)) if log_r > 0 else 1.0 / (1.0 + math.exp(log_r))
    )
    served_if_waiting = min(1.0, (x / y) * -math.expm1(-log_big_a))  # P(served | waited)
    abandonment = p_wait * (1.0 - served_if_waiting)
    # Waiting callers answered after answer_s: x/(x+1)·A(x+1, y')·e^(y−y'−(x+1)θt) / A(x, y).
    theta_t = answer_s / patience
    y_t = y * math.exp(-theta_t)
    late = (x / (x + 1.0)) * math.exp(
        log_a(x + 1.0, y_t) + y - y_t - (x + 1.0) * theta_t - log_big_a
    )
    service_level = 1.0 - p_wait + p_wait * max(served_if_waiting - late, 0.0)
    answered = 1.0 - abandonment
    asa = p_wait * _mean_wait_served(x, y) * patience / answered if answered > 0 else math.inf
    return Measures(agents, p_wait, service_level, asa, a * answered / agents, abandonment)


def _mean_wait_served(x: float, y: float) -> float:
    """E[W·1{served} | waited] · θ, i.e. Σ_j p_j · x/(x+j+1) · Σ_{i=1..j+1} 1/(x+i).

    p_j ∝ y^j / ∏_{k≤j}(x+k) is the chance of finding j callers ahead; with j ahead the wait is a
    sum of exponentials of rates θ(x+i), i = 0…j, and it ends in service with probability
    x/(x+j+1). The sum runs around its peak (j ≈ y − x) in relative terms so it never overflows.
    """
    peak = max(0, math.ceil(y - x))
    low, rel = peak, 1.0
    while low > 0 and rel > 1e-18:  # walk down from the peak until the terms vanish
        rel *= (x + low) / y
        low -= 1
    harmonic_sum = harmonic(x + 1.0, low + 1)  # Σ_{i=1..low+1} 1/(x+i)
    total = weighted = 0.0
    j = low
    while True:
        total += rel
        weighted += rel * (x / (x + j + 1.0)) * harmonic_sum
        j += 1
        rel *= y / (x + j)
        harmonic_sum += 1.0 / (x + j + 1.0)
        if j > peak and rel < 1e-18 * total:
            return weighted / total


def measures(traffic: Traffic, agents: int, answer_s: float = 20.0) -> Measures:
    """What `agents` agents achieve on `traffic` (Erlang C, or Erlang A with a patience)."""
    return _measures(traffic, agents, answer_s, ErlangB(traffic.load))


def _measures(traffic: Traffic, agents: int, answer_s: float, table: ErlangB) -> Measures:
    if traffic.load == 0:
        return _zero_load(agents)
    if traffic.erlang_a:
        return _measures_a(traffic, agents, answer_s, table)
    return _measures_c(traffic, agents, answer_s, table)


def _first(low: int, ok: Callable[[int], bool]) -> int:
    """The least n ≥ low with ok(n), for a monotone ok: gallop up, then bisect."""
    if ok(low):
        return low
    bad, step = low, 1
    while True:
        good = bad + step
        if good > MAX_AGENTS:
            raise ValueError("target: not reachable with a million agents")
        if ok(good):
            break
        bad, step = good, step * 2
    while good - bad > 1:
        mid = (bad + good) // 2
        if ok(mid):
            good = mid
        else:
            bad = mid
    return good


def agents_needed(traffic: Traffic, target: Target) -> Staffing:
    """The fewest agents meeting every target given (service level, ASA, maximum occupancy)."""
    a = traffic.load
    if a == 0:
        return Staffing(0, 0, _zero_load(0))
    if a >= MAX_AGENTS:
        raise ValueError(
            f"calls: an offered load of {a:,.0f} Erlangs is beyond {MAX_AGENTS:,} agents"
        )
    table = ErlangB(a)
    # Erlang C needs n > a to be stable; occupancy a/n ≤ max bounds n below too.
    low = 1 if traffic.erlang_a else math.floor(a) + 1
    if not traffic.erlang_a and target.max_occupancy < 1.0:
        low = max(low, math.ceil(a / target.max_occupancy - _CEIL_SLACK))
    answer_s = target.answer_s

    def ok(n: int) -> bool:
        m = _measures(traffic, n, answer_s, table)
        if target.service_level is not None and m.service_level < target.service_level:
            return False
        if target.asa_s is not None and m.asa_s > target.asa_s:
            return False
        return m.occupancy <= target.max_occupancy

    n = _first(low, ok)
    return Staffing(n, scheduled(n, target.shrinkage), _measures(traffic, n, answer_s, table))


def staff_intervals(
    volumes: Sequence[float],
    interval_s: float,
    aht_s: float | Sequence[float],
    target: Target,
    patience_s: float | None = None,
) -> list[Staffing]:
    """Staffing for each interval of a day (or week) from historical or forecast call volumes.

    `aht_s` is one handle time for all intervals or one per interval.
    """
    ahts = [aht_s] * len(volumes) if isinstance(aht_s, int | float) else list(aht_s)
    if len(ahts) != len(volumes):
        raise ValueError("aht_s: give one handle time or one per interval")
    return [
        agents_needed(Traffic(calls, interval_s, aht, patience_s), target)
        for calls, aht in zip(volumes, ahts, strict=True)
    ]
