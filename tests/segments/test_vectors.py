"""The array versions of ABC, XYZ and RFM give exactly the reference classes (no database)."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kartoteka.segments import classify, vectors
from kartoteka.segments.classify import AbcRule, RfmInput, XyzRule

kopecks = st.dictionaries(
    st.integers(1, 10_000),
    # Few distinct values and some zeros: ties and "no revenue" come up often.
    st.one_of(st.integers(0, 20).map(lambda v: v * 5000), st.integers(0, 10**11)),
    min_size=1,
    max_size=80,
)
rules = st.builds(
    lambda a, b, rule: AbcRule(Decimal(min(a, b)) / 100, Decimal(max(a, b)) / 100, rule),
    st.integers(1, 10_000),
    st.integers(1, 10_000),
    st.sampled_from(["own", "crossing"]),
)


def _arrays(values: dict[int, int]) -> tuple[list[int], np.ndarray]:
    keys = list(values)
    return keys, np.array([values[k] for k in keys], dtype=np.int64)


@given(kopecks, rules)
def test_abc_matches_the_reference(values, rule):
    keys, cents = _arrays(values)
    got = dict(zip(keys, vectors.abc(cents, rule).tolist(), strict=True))
    expected = classify.abc({k: Decimal(v) / 100 for k, v in values.items()}, rule)
    assert {k: v for k, v in got.items() if v} == expected


def test_abc_textbook_exercise_and_crossing_rule():
    # The 16-item exercise of test_classify (80/95 cut-offs), in whole dollars.
    from tests.segments.test_classify import EXPECTED, USAGE

    keys, cents = _arrays({k: v * 100 for k, v in USAGE.items()})
    got = dict(zip(keys, vectors.abc(cents, AbcRule()).tolist(), strict=True))
    assert {letter: {k for k in keys if got[k] == letter} for letter in "ABC"} == EXPECTED
    crossing = AbcRule(rule="crossing")
    assert dict(zip(keys, vectors.abc(cents, crossing).tolist(), strict=True)) == classify.abc(
        {k: Decimal(v) for k, v in USAGE.items()}, crossing
    )


series = st.lists(st.integers(0, 10_000_00), min_size=1, max_size=24)


@given(st.lists(series, min_size=1, max_size=30), st.integers(2, 6))
def test_variation_and_xyz_match_the_reference(many, min_periods):
    rule = XyzRule(Decimal(10), Decimal(25), min_periods)
    total = np.array([sum(s) / 100 for s in many])
    squares = np.array([float(sum(Decimal(v) / 100 * (Decimal(v) / 100) for v in s)) for s in many])
    periods = np.array([len(s) for s in many], dtype=np.int64)
    cv = vectors.variation(total, squares, periods)
    letters = vectors.xyz(cv, periods, rule).tolist()
    for k, s in enumerate(many):
        expected = classify.variation_from_sums(float(total[k]), float(squares[k]), len(s))
        assert (math.isnan(cv[k]) and expected is None) or cv[k] == expected
        assert letters[k] == (classify.xyz_letter(expected, len(s), rule) or "")


def test_no_periods_or_no_revenue_is_not_classified():
    cv = vectors.variation(np.array([0.0, 10.0]), np.array([0.0, 100.0]), np.array([3, 0]))
    assert np.isnan(cv).all()
    assert vectors.xyz(cv, np.array([3, 0]), XyzRule()).tolist() == ["", ""]


figures = st.dictionaries(
    st.integers(1, 5000),
    st.tuples(st.integers(0, 400), st.integers(1, 30), st.integers(1, 10**8)),
    min_size=1,
    max_size=80,
)


@given(figures)
def test_rfm_matches_the_reference(values):
    keys = list(values)
    r, f, m = (np.array([values[k][i] for k in keys], dtype=np.int64) for i in range(3))
    got = dict(zip(keys, vectors.rfm(r, f, m).tolist(), strict=True))
    expected = classify.rfm(
        {k: RfmInput(r_, f_, Decimal(m_)) for k, (r_, f_, m_) in values.items()}
    )
    assert got == expected


def test_quintiles_of_nothing():
    assert vectors.quintiles(np.array([], dtype=np.int64), True).size == 0
