"""The simulator drives the real router and reproduces Erlang C and Erlang A.

Statistics: consecutive calls share the queue, so their outcomes are correlated and a binomial
interval around one long run would be far too narrow. Instead each check runs R independent
replications (own seed, empty start, first 10 % of calls discarded as warm-up); the R
replication means are independent and nearly normal (each averages 11,700 calls), so
mean ± t(R−1) · s / √R is a confidence interval. With R = 10 and t = 4.781 (two-sided 99.9 %,
9 degrees of freedom) each of the ten checks below fails by chance with probability 0.1 %,
about 1 % for the lot; the seeds are fixed, so the outcome is reproducible.
"""

from __future__ import annotations

import math
import statistics

import pytest

from kartoteka.callcenter.erlang import Traffic, measures
from kartoteka.callcenter.routing import AgentState, Operator, Overflow, QueueConfig
from kartoteka.callcenter.simulator import CallType, SimConfig, simulate

REPLICATIONS = 10
T_999_9DF = 4.781
KEYS = ("probability_of_wait", "service_level", "asa_s", "occupancy", "abandonment")


def _interval(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    return mean, T_999_9DF * statistics.stdev(values) / math.sqrt(len(values))


@pytest.mark.parametrize("patience", [None, 60.0], ids=["erlang-c", "erlang-a"])
def test_identical_agents_fcfs_reproduce_erlang(patience):
    traffic = Traffic(100, 1800, 180, patience)
    expected = measures(traffic, 14, answer_s=20)
    runs = [
        simulate(
            SimConfig(
                calls=13_000,
                arrival_rate=100 / 1800,
                handle_s=180.0,
                patience_s=patience,
                agents=14,
                seed=seed,
            )
        )
        for seed in range(REPLICATIONS)
    ]
    for key in KEYS:
        mean, half = _interval([getattr(r, key) for r in runs])
        assert abs(mean - getattr(expected, key)) <= half + 1e-12, (key, mean, half)


def test_recorded_arrivals_and_empirical_handle_times():
    arrivals = [float(t) for t in range(0, 100 * 60, 60)]  # one call a minute
    result = simulate(
        SimConfig(calls=1000, arrivals=arrivals, handle_s=[30.0], agents=1, warmup=0.0)
    )
    # Deterministic: each call is over before the next arrives.
    assert result.calls == 100
    assert (result.probability_of_wait, result.service_level, result.asa_s) == (0.0, 1.0, 0.0)
    assert result.occupancy == pytest.approx(0.5)  # 30 s busy in every 60 s up to the last arrival


def test_after_call_work_keeps_the_operator_busy():
    arrivals = [0.0, 1.0]
    result = simulate(
        SimConfig(calls=2, arrivals=arrivals, handle_s=[10.0], acw_s=[5.0], agents=1, warmup=0.0)
    )
    assert result.asa_s == pytest.approx((0 + 14.0) / 2)  # the second call waits for the wrap-up
    wrapped = simulate(
        SimConfig(calls=20_000, arrival_rate=100 / 1800, handle_s=150.0, acw_s=[30.0], agents=14)
    )
    assert wrapped.occupancy == pytest.approx(10 / 14, rel=0.03)  # Little: λ·E[talk + wrap] / n


def test_priorities_give_vip_calls_the_better_service():
    result = simulate(
        SimConfig(
            calls=30_000,
            arrival_rate=100 / 1800,
            handle_s=180.0,
            agents=12,
            call_types=(CallType(weight=0.2, vip=True), CallType(weight=0.8)),
        )
    )
    vip, rest = result.by_type
    assert vip.calls + rest.calls == result.calls
    assert vip.calls == pytest.approx(0.2 * result.calls, rel=0.05)
    assert vip.service_level > rest.service_level
    assert vip.asa_s < rest.asa_s / 3


def test_skills_route_calls_only_to_qualified_operators():
    operators = [Operator(i, {"ru": 1}) for i in range(5)] + [Operator(9, {"de": 2})]
    result = simulate(
        SimConfig(
            calls=5000,
            arrival_rate=1 / 60,
            handle_s=120.0,
            patience_s=30.0,
            operators=operators,
            call_types=(CallType(required={"ru": 1}), CallType(required={"fr": 1})),
        )
    )
    ru, fr = result.by_type
    assert fr.abandonment == 1.0 and fr.service_level == 0.0  # nobody speaks French
    assert ru.service_level > 0.9
    assert operators[0].state is AgentState.OFFLINE  # the caller's operators are not touched


def test_overflow_timers_run_in_the_simulation():
    queue = QueueConfig("default", {"en": 3}, overflow=(Overflow(10.0, required={"en": 1}),))
    result = simulate(
        SimConfig(
            calls=3000,
            arrival_rate=1 / 60,
            handle_s=60.0,
            operators=[Operator(i, {"en": 1}) for i in range(3)],
            queues=(queue,),
        )
    )
    assert result.probability_of_wait == 1.0  # nobody meets level 3 …
    assert result.asa_s >= 10.0  # … until the requirement widens after 10 s
    assert result.abandonment == 0.0 and result.answered == result.calls


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (SimConfig(agents=0, arrival_rate=1.0), "agents"),
        (SimConfig(agents=1), "arrival_rate"),
        (SimConfig(agents=1, arrival_rate=1.0, handle_s=-1.0), "handle_s"),
        (SimConfig(agents=1, arrival_rate=1.0, patience_s=[]), "patience_s"),
        (SimConfig(agents=1, arrival_rate=1.0, calls=0), "calls"),
        (SimConfig(agents=1, arrival_rate=1.0, warmup=1.0), "warmup"),
        (SimConfig(agents=1, arrival_rate=1.0, call_types=(CallType(queue="x"),)), "call_types"),
        (SimConfig(agents=1, arrival_rate=1.0, call_types=(CallType(weight=0),)), "call_types"),
    ],
)
def test_bad_configuration_names_the_field(config, field):
    with pytest.raises(ValueError, match=field):
        simulate(config)


def test_an_overloaded_centre_is_fully_occupied_not_more():
    result = simulate(SimConfig(calls=3000, arrival_rate=10 / 180, handle_s=180.0, agents=3))
    assert result.probability_of_wait > 0.99 and result.occupancy == pytest.approx(1.0)
