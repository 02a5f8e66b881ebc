"""`python -m bench.callcenter_math`: the contact centre's pure core, timed (no database).

1. Router decisions with 500 operators (1–5 of 50 skills, levels 1–3, 10 of them supervisors),
   5 queues (every strategy, overflow after 30 s, escalation after 120 s) and 200 waiting calls:
   an operator frees up (`release`), a call arrives (`arrive`), the clock ticks (`assign`).
   Baseline in the same run: a plain router over the same events that scans every operator and
   sorts every waiting call per decision.
2. The simulator, calls per second of wall time, through the real router: identical agents
   FCFS (Erlang C and Erlang A), and a mix with skills, VIPs and wrap-up. Baseline: the same
   event loop with a counter of free agents and a deque instead of the router.
3. Erlang staffing at 2,000 Erlangs (Erlang C; Erlang A with patience), and Erlang C at 50
   Erlangs against the textbook formula with math.factorial (which overflows a float at 2,000).

Prints Markdown tables; writes var/bench-callcenter-math-results.json.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import time
from collections import deque
from heapq import heappop, heappush
from typing import Any

from bench.runner import publish
from kartoteka.callcenter import routing
from kartoteka.callcenter.erlang import Target, Traffic, agents_needed, erlang_c
from kartoteka.callcenter.routing import (
    AgentState,
    Operator,
    Overflow,
    QueueConfig,
    Strategy,
    WaitingCall,
)
from kartoteka.callcenter.simulator import CallType, SimConfig, simulate

SKILLS = [f"s{k}" for k in range(50)]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# 1. Router decisions.


def _world(seed: int) -> tuple[list[QueueConfig], list[Operator], random.Random]:
    r = random.Random(seed)
    queues = [
        QueueConfig(
            f"q{k}",
            {SKILLS[k]: 1},
            strategy,
            overflow=(Overflow(30.0, queue=f"q{(k + 1) % 5}"),),
            escalate_after_s=120.0,
        )
        for k, strategy in enumerate([*Strategy, Strategy.LONGEST_IDLE])
    ]
    operators = [
        Operator(
            i,
            {s: r.randint(1, 3) for s in r.sample(SKILLS, r.randint(1, 5))},
            AgentState.BUSY,
            is_supervisor=i < 10,
        )
        for i in range(500)
    ]
    return queues, operators, r


def _new_call(r: random.Random, n: int, now: float) -> WaitingCall:
    queue = r.randrange(5)
    required = {SKILLS[queue]: 1}
    if r.random() < 0.5:
        required[r.choice(SKILLS)] = r.randint(1, 2)
    return WaitingCall(
        n,
        f"q{queue}",
        required,
        abc_class=r.choice("ABC "),
        vip=r.random() < 0.05,
        sticky_operator_id=r.randrange(500) if r.random() < 0.1 else None,
        arrived_at=now,
    )


class NaiveRouter:
    """The obvious router: per decision, scan all operators / sort all waiting calls."""

    def __init__(self, queues: list[QueueConfig], operators: list[Operator]) -> None:
        self.state = routing.make_state(queues, [])  # only for the queues and tiers
        self.ops = {op.id: op for op in operators}
        self.waiting: list[WaitingCall] = []

    def arrive(self, call: WaitingCall, now: float) -> Operator | None:
        q = self.state.queues[call.queue]
        routing._tiers(self.state, q, call, now)
        for tier in call.tiers:
            found = [
                op
                for op in self.ops.values()
                if op.state is AgentState.AVAILABLE and _may(op, call, tier)
            ]
            if found:
                op = min(found, key=lambda o: (o.idle_since, o.id))
                op.state = AgentState.BUSY
                return op
        self.waiting.append(call)
        return None

    def release(self, op: Operator, now: float) -> WaitingCall | None:
        op.state, op.idle_since = AgentState.AVAILABLE, now
        for call in sorted(self.waiting, key=lambda c: (-c.priority, c.arrived_at, c.id)):
            if routing.may_take(op, call):
                self.waiting.remove(call)
                op.state = AgentState.BUSY
                return call
        return None


def _may(op: Operator, call: WaitingCall, tier: routing.Requirement) -> bool:
    if tier is routing._STICKY:
        return op.id == call.sticky_operator_id
    if tier is routing._SUPERVISORS:
        return op.is_supervisor
    return not op.is_supervisor and routing._meets(op.skills, tier)


def bench_router(events: int, seed: int = 5) -> dict[str, Any]:
    queues, operators, r = _world(seed)
    state = routing.make_state(queues, operators)
    now, n = 0.0, 0
    for _ in range(200):
        routing.arrive(state, _new_call(r, n, now), now)
        n += 1
    times: dict[str, list[float]] = {"release": [], "arrive": [], "assign": []}
    walls: list[float] = []
    clock = time.process_time  # CPU time: the machine is shared, wall time counts others' work
    busy = [op for op in operators if op.state is AgentState.BUSY]
    for _ in range(events):
        now += 0.5
        op = busy.pop(r.randrange(len(busy)))
        w0, t0 = time.perf_counter(), clock()
        taken = routing.release(state, op, now)
        times["release"].append(clock() - t0)
        walls.append(time.perf_counter() - w0)
        if taken is None:
            # It stays free; one free operator goes back on a call elsewhere so the pool holds.
            other = next(iter(state.available.values()))
            routing.set_state(state, other, AgentState.BUSY, now)
            busy.append(other)
        else:
            busy.append(op)
        while len(state.waiting) < 200:
            new = _new_call(r, n, now)
            w0, t0 = time.perf_counter(), clock()
            got = routing.arrive(state, new, now)
            times["arrive"].append(clock() - t0)
            walls.append(time.perf_counter() - w0)
            n += 1
            if got is not None:
                busy.append(got)
        w0, t0 = time.perf_counter(), clock()
        pairs = routing.assign(state, now)
        times["assign"].append(clock() - t0)
        walls.append(time.perf_counter() - w0)
        busy.extend(got for _call, got in pairs)
    all_times = [t for ts in times.values() for t in ts]
    naive = bench_naive_router(events, seed)
    result: dict[str, Any] = {
        "operators": 500,
        "skills": 50,
        "waiting": len(state.waiting),
        "free_operators": len(state.available),
        "decisions": len(all_times),
    }
    for name, ts in [*times.items(), ("all", all_times)]:
        result[name] = {
            "count": len(ts),
            "p50_us": _pct(ts, 0.5) * 1e6,
            "p99_us": _pct(ts, 0.99) * 1e6,
        }
    result["all"]["wall_p99_us"] = _pct(walls, 0.99) * 1e6
    result["naive"] = naive
    result["p99_ratio_naive_over_router"] = naive["p99_us"] / result["all"]["p99_us"]
    return result


def bench_naive_router(events: int, seed: int) -> dict[str, float]:
    queues, operators, r = _world(seed)
    naive = NaiveRouter(queues, operators)
    now, n = 0.0, 0
    for _ in range(200):
        naive.arrive(_new_call(r, n, now), now)
        n += 1
    times = []
    clock = time.process_time
    busy = [op for op in operators if op.state is AgentState.BUSY]
    for _ in range(events):
        now += 0.5
        op = busy.pop(r.randrange(len(busy)))
        t0 = clock()
        taken = naive.release(op, now)
        times.append(clock() - t0)
        if taken is None:
            other = next(o for o in operators if o.state is AgentState.AVAILABLE)
            other.state = AgentState.BUSY
            busy.append(other)
        else:
            busy.append(op)
        while len(naive.waiting) < 200:
            new = _new_call(r, n, now)
            t0 = clock()
            got = naive.arrive(new, now)
            times.append(clock() - t0)
            n += 1
            if got is not None:
                busy.append(got)
    return {"p50_us": _pct(times, 0.5) * 1e6, "p99_us": _pct(times, 0.99) * 1e6}


# 2. The simulator.


def bare_loop(calls: int, rate: float, aht: float, agents: int, seed: int) -> tuple[float, float]:
    """The same event loop without the router: free-agent counter and a FIFO. Calls per second
    of CPU and of wall time."""
    rng = random.Random(seed)
    gap, service = rng.expovariate, rng.expovariate
    heap: list[tuple[float, int]] = []
    queue: deque[float] = deque()
    free, answered, within, wait_sum = agents, 0, 0, 0.0
    t_arrival = gap(rate)
    i = 0
    started, wall = time.process_time(), time.perf_counter()
    while True:
        t = heap[0][0] if heap else math.inf
        if t_arrival <= t:
            if t_arrival == math.inf:
                break
            now = t_arrival
            if free:
                free -= 1
                heappush(heap, (now + service(1 / aht), i))
                answered += 1
                within += 1
            else:
                queue.append(now)
            i += 1
            t_arrival = now + gap(rate) if i < calls else math.inf
            continue
        now, _code = heappop(heap)
        if queue:
            wait = now - queue.popleft()
            answered += 1
            within += wait <= 20
            wait_sum += wait
            heappush(heap, (now + service(1 / aht), i))
        else:
            free += 1
    return calls / (time.process_time() - started), calls / (time.perf_counter() - wall)


def _timed(config: SimConfig) -> tuple[float, float]:
    """Calls per second of CPU time and of wall time."""
    wall, cpu = time.perf_counter(), time.process_time()
    simulate(config)
    return (
        config.calls / (time.process_time() - cpu),
        config.calls / (time.perf_counter() - wall),
    )


def _speeds(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "median_calls_per_s": statistics.median(p[0] for p in pairs),
        "median_wall_calls_per_s": statistics.median(p[1] for p in pairs),
        "all": pairs,
    }


def bench_simulator(calls: int, runs: int) -> dict[str, Any]:
    rate = 100 / 1800
    fcfs = SimConfig(calls=calls, arrival_rate=rate, handle_s=180.0, agents=14)
    patient = SimConfig(calls=calls, arrival_rate=rate, handle_s=180.0, agents=14, patience_s=60.0)
    mixed_ops = [Operator(i, {"ru": 2, "en": 1 + i % 3} if i % 2 else {"ru": 1}) for i in range(20)]
    mixed = SimConfig(
        calls=calls,
        arrival_rate=rate * 1.6,
        handle_s=150.0,
        acw_s=[20.0, 30.0, 40.0],
        patience_s=120.0,
        operators=mixed_ops,
        queues=(QueueConfig("default", {"ru": 1}, overflow=(Overflow(30.0, required={"ru": 1}),)),),
        call_types=(
            CallType(weight=0.6),
            CallType(weight=0.2, abc_class="A"),
            CallType(weight=0.1, vip=True),
            CallType(weight=0.1, required={"en": 3}),
        ),
    )
    result: dict[str, Any] = {"calls_per_run": calls, "runs": runs}
    for name, config in [("erlang_c", fcfs), ("erlang_a", patient), ("mixed", mixed)]:
        speeds = [_timed(config) for _ in range(runs)]
        result[name] = _speeds(speeds)
    bare = [bare_loop(calls, rate, 180.0, 14, seed) for seed in range(runs)]
    result["bare_loop"] = _speeds(bare)
    result["ratio_bare_over_router"] = (
        result["bare_loop"]["median_calls_per_s"] / result["erlang_c"]["median_calls_per_s"]
    )
    return result


# 3. Erlang.


def naive_erlang_c(n: int, a: float) -> float:
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def _times(fn: Any, repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        samples.append(time.process_time() - t0)
    return {"p50_us": _pct(samples, 0.5) * 1e6, "p99_us": _pct(samples, 0.99) * 1e6}


def bench_erlang(repeat: int) -> dict[str, Any]:
    big = Traffic(calls=20_000, interval_s=1800, aht_s=180)  # 2,000 Erlangs
    sl = Target(service_level=0.8, answer_s=20)
    result: dict[str, Any] = {
        "staff_2000_erlang_c": _times(lambda: agents_needed(big, sl), repeat),
        "agents_2000_erlang_c": agents_needed(big, sl).agents,
        "staff_2000_erlang_a": _times(
            lambda: agents_needed(Traffic(20_000, 1800, 180, 120.0), sl), max(repeat // 10, 5)
        ),
        "agents_2000_erlang_a": agents_needed(Traffic(20_000, 1800, 180, 120.0), sl).agents,
    }
    result["erlang_c_50_ours"] = _times(lambda: erlang_c(60, 50.0), repeat)
    result["erlang_c_50_factorial"] = _times(lambda: naive_erlang_c(60, 50.0), repeat)
    result["ratio_factorial_over_ours_50"] = (
        result["erlang_c_50_factorial"]["p50_us"] / result["erlang_c_50_ours"]["p50_us"]
    )
    try:
        naive_erlang_c(2010, 2000.0)
        result["factorial_at_2000"] = "ok"
    except OverflowError as exc:
        result["factorial_at_2000"] = f"OverflowError: {exc}"
    return result


def table(router: dict[str, Any], sim: dict[str, Any], erl: dict[str, Any]) -> str:
    """CPU time per process (the 2 cores are shared: wall time also counts others' work)."""
    rows = [
        "| measure (CPU time) | figure | target | baseline in the same run | ratio |",
        "|---|---:|---:|---:|---:|",
        f"| router decision p99, all {router['decisions']:,} | {router['all']['p99_us']:.0f} µs "
        f"(wall {router['all']['wall_p99_us']:.0f}) | < 1,000 µs "
        f"| plain scan p99 {router['naive']['p99_us']:.0f} µs "
        f"| {router['p99_ratio_naive_over_router']:.1f}× |",
    ]
    for name in ("release", "arrive", "assign"):
        part = router[name]
        rows.append(
            f"| … {name} ({part['count']:,}): p50 / p99 | {part['p50_us']:.0f} / "
            f"{part['p99_us']:.0f} µs | | | |"
        )
    bare = sim["bare_loop"]["median_calls_per_s"]
    for name, label in [
        ("erlang_c", "simulator, 14 identical agents FCFS"),
        ("erlang_a", "… with patience (Erlang A)"),
        ("mixed", "… 20 operators, skills, VIP/ABC, wrap-up, overflow"),
    ]:
        speed, wall = sim[name]["median_calls_per_s"], sim[name]["median_wall_calls_per_s"]
        rows.append(
            f"| {label} | {speed:,.0f} calls/s (wall {wall:,.0f}) | ≥ 100,000 "
            f"| bare loop {bare:,.0f} calls/s | {bare / speed:.2f}× |"
        )
    c, a = erl["staff_2000_erlang_c"], erl["staff_2000_erlang_a"]
    rows += [
        f"| Erlang C staffing, 2,000 Erlangs → {erl['agents_2000_erlang_c']:,} agents: p50 / p99 "
        f"| {c['p50_us']:.0f} / {c['p99_us']:.0f} µs | < 1,000 µs "
        f"| math.factorial formula: {erl['factorial_at_2000'][:13]} | — |",
        f"| Erlang A staffing, 2,000 Erlangs, patience 120 s → {erl['agents_2000_erlang_a']:,}: "
        f"p50 / p99 | {a['p50_us']:.0f} / {a['p99_us']:.0f} µs | — | | |",
        f"| Erlang C, 60 agents at 50 Erlangs: p50 | {erl['erlang_c_50_ours']['p50_us']:.1f} µs "
        f"| | math.factorial {erl['erlang_c_50_factorial']['p50_us']:.1f} µs "
        f"| {erl['ratio_factorial_over_ours_50']:.1f}× |",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.callcenter_math", description=__doc__)
    parser.add_argument("--events", type=int, default=5000, help="router events (≥ 5,000)")
    parser.add_argument("--sim-calls", type=int, default=200_000, help="calls per simulator run")
    parser.add_argument("--runs", type=int, default=3, help="simulator runs per scenario")
    parser.add_argument("--repeat", type=int, default=1000, help="Erlang timings")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    router = bench_router(args.events)
    sim = bench_simulator(args.sim_calls, args.runs)
    erl = bench_erlang(args.repeat)
    after = os.getloadavg()[0]
    load = f"load average {load_before:.1f} → {after:.1f} on {os.cpu_count()} cores"
    results = [{"router": router, "simulator": sim, "erlang": erl, "load": load}]
    title = f"Contact centre: router, simulator, Erlang ({load})"
    publish("callcenter-math", title, table(router, sim, erl), results)


if __name__ == "__main__":
    main()
