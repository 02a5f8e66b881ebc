"""Erlang C and Erlang A: published figures, an exact birth-death oracle, and properties."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kartoteka.callcenter import gamma
from kartoteka.callcenter.erlang import (
    Target,
    Traffic,
    agents_needed,
    erlang_b,
    erlang_c,
    measures,
    scheduled,
    staff_intervals,
)

EXAMPLE = Traffic(calls=100, interval_s=1800, aht_s=180)  # 10 Erlangs


def test_the_published_example():
    m = measures(EXAMPLE, 14, answer_s=20)
    assert m.probability_of_wait == pytest.approx(0.1741, abs=5e-5)
    assert m.service_level == pytest.approx(0.8884, abs=5e-5)
    assert m.asa_s == pytest.approx(7.836, abs=5e-4)
    assert m.occupancy == pytest.approx(0.714, abs=5e-4)
    assert m.abandonment == 0.0


def test_staffing_the_published_example_with_shrinkage():
    staffing = agents_needed(EXAMPLE, Target(service_level=0.8, answer_s=20, shrinkage=0.3))
    assert staffing.agents == 14  # 13 agents reach only ~76 %
    assert measures(EXAMPLE, 13).service_level < 0.8
    assert staffing.scheduled_agents == 20  # 14 / 0.7 is 20.000000000000004 in floating point


# Erlang B tables (Erlangs carried at 1 % blocking for n trunks), as printed in traffic tables.
@pytest.mark.parametrize(
    ("trunks", "erlangs"), [(5, 1.36), (10, 4.46), (20, 12.03), (50, 37.90), (100, 84.06)]
)
def test_erlang_b_table_at_one_percent(trunks, erlangs):
    assert erlang_b(trunks, erlangs) == pytest.approx(0.01, abs=2e-4)


def _naive_erlang_c(n: int, a: Fraction) -> Fraction:
    """The textbook formula in exact rational arithmetic: the oracle for small loads."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize(("n", "a"), [(2, "1"), (5, "3.5"), (11, "10"), (14, "10"), (60, "50")])
def test_erlang_c_matches_the_textbook_formula(n, a):
    assert erlang_c(n, float(a)) == pytest.approx(float(_naive_erlang_c(n, Fraction(a))), rel=1e-12)


def test_two_thousand_erlangs_neither_overflow_nor_take_long():
    traffic = Traffic(calls=20_000, interval_s=1800, aht_s=180)  # 2,000 Erlangs
    staffing = agents_needed(traffic, Target(service_level=0.8, answer_s=20))
    m = staffing.measures
    assert 2000 < staffing.agents < 2100
    assert m.service_level >= 0.8 > measures(traffic, staffing.agents - 1).service_level
    assert all(math.isfinite(v) for v in (m.probability_of_wait, m.asa_s, m.occupancy))


def test_an_unstable_queue_is_reported_not_raised():
    m = measures(EXAMPLE, 10)
    assert (m.probability_of_wait, m.service_level, m.asa_s) == (1.0, 0.0, math.inf)


def test_targets_for_asa_and_occupancy():
    asa = agents_needed(EXAMPLE, Target(asa_s=10))
    assert measures(EXAMPLE, asa.agents).asa_s <= 10 < measures(EXAMPLE, asa.agents - 1).asa_s
    capped = agents_needed(EXAMPLE, Target(service_level=0.5, max_occupancy=0.7))
    assert capped.agents == 15  # 10 / 0.7 = 14.3
    assert capped.measures.occupancy <= 0.7


def test_per_interval_staffing():
    day = staff_intervals([0, 50, 100, 200], 1800, 180, Target(service_level=0.8, answer_s=20))
    alone = [agents_needed(Traffic(v, 1800, 180), Target(0.8)).agents for v in (50, 200)]
    assert [s.agents for s in day] == [0, alone[0], 14, alone[1]]
    assert [s.agents for s in day] == sorted(s.agents for s in day)
    per = staff_intervals([100, 100], 1800, [180, 360], Target(service_level=0.8))
    assert per[0].agents < per[1].agents
    with pytest.raises(ValueError, match="aht_s"):
        staff_intervals([100, 100], 1800, [180], Target(service_level=0.8))


def test_scheduled_agents_round_up():
    assert scheduled(14, 0.3) == 20
    assert scheduled(15, 0.3) == 22
    assert scheduled(7, 0.0) == 7


# The incomplete gamma function against closed forms.


@pytest.mark.parametrize("x", [0.01, 0.5, 1.0, 2.0, 7.5, 30.0])
def test_incomplete_gamma_closed_forms(x):
    assert gamma.gamma_p(1.0, x) == pytest.approx(-math.expm1(-x), rel=1e-13)
    assert gamma.gamma_p(0.5, x) == pytest.approx(math.erf(math.sqrt(x)), rel=1e-13)
    for s in (2, 5, 12):
        poisson = sum(x**k / math.factorial(k) for k in range(s)) * math.exp(-x)
        assert gamma.gamma_q(s, x) == pytest.approx(poisson, rel=1e-11)


def test_incomplete_gamma_in_the_tails():
    assert gamma.gamma_q(1.0, 700.0) == pytest.approx(math.exp(-700.0), rel=1e-12)
    assert gamma.log_gamma_p(1.0, 1e-300) == pytest.approx(math.log(1e-300), rel=1e-12)
    assert gamma.gamma_p(1000.0, 1000.0) == pytest.approx(0.5, abs=0.01)  # near the median


@pytest.mark.parametrize(("x", "y"), [(0.5, 0.2), (3.0, 3.9), (3.0, 4.1), (40.0, 100.0), (14, 10)])
def test_a_is_the_series_on_both_branches(x, y):
    terms, total, j = 1.0, 1.0, 0
    while terms > 1e-18 * total or j < y:
        j += 1
        terms *= y / (x + j)
        total += terms
    assert gamma.log_a(x, y) == pytest.approx(math.log(total), rel=1e-12, abs=1e-12)


def test_a_stays_finite_when_overloaded():
    assert gamma.log_a(10.0, 5000.0) == pytest.approx(
        math.lgamma(11.0) + 5000.0 - 10.0 * math.log(5000.0), rel=1e-12
    )


# Erlang A against an exact computation on the birth-death chain.


def _birth_death(n: int, lam: float, mu: float, theta: float, t: float) -> dict[str, float]:
    """M/M/n+M solved directly: truncated stationary distribution, then the tagged caller's
    chain (j callers ahead → served or gone) by uniformization. Independent of the closed forms."""
    size = n + 2000
    logs = np.zeros(size)
    for k in range(1, size):
        death = min(k, n) * mu + max(k - n, 0) * theta
        logs[k] = logs[k - 1] + math.log(lam / death)
    pi = np.exp(logs - logs.max())
    pi /= pi.sum()
    p_wait = pi[n:].sum()
    ahead = pi[n:]  # j callers ahead, j = 0…
    ahead = ahead[: np.nonzero(ahead > 1e-16 * ahead.max())[0][-1] + 1]
    j = np.arange(len(ahead))
    abandonment = theta * float((np.arange(size)[n:] - n) @ pi[n:]) / lam
    rates = n * mu + j * theta
    # Waiting time of the answered: E[W·1{served} | j] by the recursion over the stages.
    h, m = np.empty(len(j)), np.empty(len(j))
    h_prev, m_prev = 1.0, 0.0
    for i, r in enumerate(rates):
        go = r / (r + theta)
        h[i], m[i] = go * h_prev, go * (h_prev / (r + theta) + m_prev)
        h_prev, m_prev = h[i], m[i]
    answered = 1.0 - abandonment
    asa = float(ahead @ m) / answered
    # P(served within t | j) by uniformization of the tagged caller's chain.
    big = float(rates.max() + theta)
    state = ahead.copy()
    served = 0.0
    weight = math.exp(-big * t)
    within = 0.0
    for step in range(int(big * t + 12 * math.sqrt(big * t) + 30)):
        within += weight * served
        to_next = state * rates / big
        served += to_next[0]
        state = state * (1.0 - (rates + theta) / big)
        state[:-1] += to_next[1:]
        weight *= big * t / (step + 1)
    occupancy = float(np.minimum(np.arange(size), n) @ pi) / n
    return {
        "probability_of_wait": float(p_wait),
        "abandonment": abandonment,
        "service_level": float(1.0 - p_wait + within),
        "asa_s": asa,
        "occupancy": occupancy,
    }


@pytest.mark.parametrize(
    ("calls", "aht", "patience", "agents"),
    [
        (100, 180, 60, 14),
        (100, 180, 60, 8),
        (100, 180, 300, 11),
        (400, 240, 90, 40),
        (30, 300, 20, 3),
    ],
)
def test_erlang_a_matches_the_birth_death_chain(calls, aht, patience, agents):
    traffic = Traffic(calls, 1800, aht, patience)
    m = measures(traffic, agents, answer_s=20)
    exact = _birth_death(agents, calls / 1800, 1 / aht, 1 / patience, 20)
    for key, value in exact.items():
        assert getattr(m, key) == pytest.approx(value, rel=1e-6, abs=1e-9), key


@pytest.mark.parametrize("agents", [11, 14, 20])
def test_erlang_a_tends_to_erlang_c_as_patience_grows(agents):
    c = measures(EXAMPLE, agents)
    a = measures(Traffic(100, 1800, 180, patience_s=1e8), agents)
    assert a.abandonment == pytest.approx(c.asa_s / 1e8, rel=1e-3)  # P(gone) = θ·E[wait]
    for key in ("probability_of_wait", "service_level", "asa_s", "occupancy"):
        assert getattr(a, key) == pytest.approx(getattr(c, key), rel=1e-4), key


def test_erlang_a_staffs_below_the_load():
    traffic = Traffic(100, 1800, 180, patience_s=30)
    staffing = agents_needed(traffic, Target(service_level=0.5, answer_s=20))
    assert staffing.measures.service_level >= 0.5
    assert measures(traffic, staffing.agents - 1, 20).service_level < 0.5


loads = st.floats(min_value=0.05, max_value=300)
answers = st.floats(min_value=0, max_value=120)
patiences = st.one_of(st.none(), st.floats(min_value=5, max_value=1200))


@settings(max_examples=60, deadline=None)
@given(load=loads, answer=answers, patience=patiences, extra=st.integers(0, 30))
def test_more_agents_serve_better(load, answer, patience, extra):
    traffic = Traffic(load, 3600, 3600, patience)  # load Erlangs, one-hour AHT
    low = max(1, math.floor(load) + 1 if patience is None else math.floor(load * 0.5) + 1)
    n = low + extra
    now, more = measures(traffic, n, answer), measures(traffic, n + 1, answer)
    assert more.service_level >= now.service_level - 1e-12
    assert more.probability_of_wait <= now.probability_of_wait + 1e-12
    assert more.asa_s <= now.asa_s * (1 + 1e-12)
    assert more.abandonment <= now.abandonment + 1e-12
    for m in (now, more):
        assert 0 <= m.probability_of_wait <= 1 and 0 <= m.service_level <= 1
        assert 0 <= m.abandonment <= 1 and 0 <= m.occupancy <= 1


@settings(max_examples=60, deadline=None)
@given(
    load=loads,
    patience=patiences,
    sl=st.floats(min_value=0.05, max_value=0.99),
    answer=answers,
    max_occupancy=st.floats(min_value=0.3, max_value=1.0),
)
def test_staffing_meets_the_target_and_one_less_does_not(load, patience, sl, answer, max_occupancy):
    traffic = Traffic(load, 3600, 3600, patience)
    target = Target(service_level=sl, answer_s=answer, max_occupancy=max_occupancy)
    n = agents_needed(traffic, target).agents
    m = measures(traffic, n, answer)
    assert m.service_level >= sl and m.occupancy <= max_occupancy
    if n > 1:
        fewer = measures(traffic, n - 1, answer)
        assert fewer.service_level < sl or fewer.occupancy > max_occupancy


def test_erlang_a_far_overstaffed_stays_finite():
    """Found by hypothesis: B ~ 1e-300 made (1 − B) / (B·A) overflow a float."""
    traffic = Traffic(229, 3600, 3600, patience_s=5.0)
    tiny = measures(traffic, 600, answer_s=0)
    assert 0 < tiny.probability_of_wait < 1e-90 and tiny.service_level == 1.0
    staffing = agents_needed(traffic, Target(service_level=0.5, answer_s=0, max_occupancy=0.375))
    assert staffing.agents == math.ceil(229 / 0.375)  # the occupancy cap decides


@pytest.mark.parametrize(
    ("a", "m"), [(0.3, 5), (0.3, 1000), (12.5, 100_000), (5e11, 2000), (1e6, 3000)]
)
def test_harmonic_sums(a, m):
    assert gamma.harmonic(a, m) == pytest.approx(
        math.fsum(1 / (a + i) for i in range(m)), rel=1e-12
    )


def test_out_of_range_inputs_name_the_field():
    with pytest.raises(ValueError, match="patience_s"):
        measures(Traffic(0.5, 1, 180, patience_s=1e12), 100)
    with pytest.raises(ValueError, match="calls"):
        agents_needed(Traffic(1e7, 1, 180), Target(service_level=0.8))
