"""ABC, XYZ and RFM against worked examples and properties (no database)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kartoteka.segments.classify import (
    AbcRule,
    RfmInput,
    XyzRule,
    abc,
    quintiles,
    rfm,
    variation,
    variation_from_sums,
    xyz,
    xyz_letter,
)

# A 16-item exercise: "Perform an ABC analysis and identify A, B and C class items using 80% and
# 95% as cut-off points" (the annual-usage exercise of operations management courses; worked
# solution published at https://homeworksource.com/p/1006462/ — item 1 with 81.8% cumulative is
# B, item 7 with 94.4% is B, item 16 with 96.3% is C). Item: annual usage in $.
USAGE = {
    1: 9028, 2: 252, 3: 2024, 4: 1408, 5: 36385, 6: 1092, 7: 1881, 8: 3231,
    9: 3374, 10: 120, 11: 1919, 12: 12516, 13: 315, 14: 484, 15: 22436, 16: 1786,
}  # fmt: skip
EXPECTED = {
    "A": {5, 15, 12},
    "B": {1, 9, 8, 3, 11, 7},
    "C": {16, 4, 6, 14, 13, 2, 10},
}


def test_sixteen_item_exercise_with_80_95_cut_offs():
    classes = abc({k: Decimal(v) for k, v in USAGE.items()})
    got = {letter: {k for k, c in classes.items() if c == letter} for letter in "ABC"}
    assert got == EXPECTED
    assert sum(USAGE.values()) == 98251  # the exercise's total


def test_crossing_rule_puts_the_crossing_client_in_the_class():
    classes = abc({k: Decimal(v) for k, v in USAGE.items()}, AbcRule(rule="crossing"))
    # Item 1 starts at 72.6% (< 80%): A under this rule; item 16 starts at 94.4%: B.
    assert classes[1] == "A" and classes[16] == "B" and classes[4] == "C"


def test_thresholds_are_configurable_and_checked():
    classes = abc({k: Decimal(v) for k, v in USAGE.items()}, AbcRule(a=Decimal(60), b=Decimal(90)))
    assert {k for k, c in classes.items() if c == "A"} == {5, 15}
    with pytest.raises(ValueError):
        AbcRule(a=Decimal(96), b=Decimal(95))
    with pytest.raises(ValueError):
        AbcRule(rule="nonsense")


def test_no_revenue_no_class():
    assert abc({1: Decimal(0), 2: Decimal(5), 3: Decimal(95)}) == {2: "C", 3: "B"}
    assert abc({}) == {}


def test_a_single_client_with_all_revenue_is_c_under_the_own_rule():
    # Its own cumulative share is 100%, above 95%: the rule as written. "crossing" makes it A.
    assert abc({1: Decimal(10)}) == {1: "C"}
    assert abc({1: Decimal(10)}, AbcRule(rule="crossing")) == {1: "A"}


def test_ties_share_a_class():
    classes = abc({1: Decimal(50), 2: Decimal(50)})
    assert classes[1] == classes[2]


# Published coefficients of variation. (1) The classic example of Wikipedia's "Standard
# deviation" article: 2, 4, 4, 4, 5, 5, 7, 9 has mean 5 and population standard deviation 2,
# so CV = 40%. (2) The same article's note that a constant series has deviation 0 (CV 0%).
# (3) 1, 2, 3, 4, 5: population variance 2 (the textbook definition σ² = Σ(x−μ)²/N), mean 3,
# CV = √2/3 = 47.14%.
@pytest.mark.parametrize(
    ("series", "cv"),
    [
        ([2, 4, 4, 4, 5, 5, 7, 9], 40.0),
        ([7, 7, 7, 7], 0.0),
        ([1, 2, 3, 4, 5], math.sqrt(2) / 3 * 100),
        ([100, 110, 90, 100], math.sqrt(50) / 100 * 100),  # 7.07% → X
    ],
)
def test_published_coefficients_of_variation(series, cv):
    assert variation(series) == pytest.approx(cv)
    total, squares = sum(series), sum(v * v for v in series)
    assert variation_from_sums(total, squares, len(series)) == pytest.approx(cv)


def test_xyz_letters_with_zero_months_and_too_few_periods():
    assert xyz_letter(10.0, 12) == "X"
    assert xyz_letter(10.0000001, 12) == "Y"
    assert xyz_letter(25.0, 12) == "Y"
    assert xyz_letter(25.1, 12) == "Z"
    assert xyz_letter(5.0, 2) is None  # too few periods: no class, visibly
    series = {
        "steady": [100, 110, 90, 100],
        "seasonal": [100, 0, 100, 0],  # a month without revenue counts as zero: CV 100%
        "new": [100, 100],
        "silent": [0, 0, 0],
        "wiki": [2, 4, 4, 4, 5, 5, 7, 9],
    }
    assert xyz(series) == {"steady": "X", "seasonal": "Z", "wiki": "Z"}
    assert xyz(series, XyzRule(x=Decimal(50), y=Decimal(100))) == {
        "steady": "X",
        "seasonal": "Y",
        "wiki": "X",
    }


def test_quintiles_five_best_and_ties():
    assert quintiles({i: i for i in range(1, 11)}, higher_is_better=True) == {
        1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 8: 4, 9: 5, 10: 5,
    }  # fmt: skip
    assert quintiles({"a": 3, "b": 3, "c": 3}, higher_is_better=True) == {"a": 2, "b": 2, "c": 2}
    assert quintiles({"new": 1, "old": 400}, higher_is_better=False) == {"old": 3, "new": 5}
    assert quintiles({1: 10, 2: 20, 3: 30}, higher_is_better=True) == {1: 2, 2: 4, 3: 5}


def test_rfm_digits():
    figures = {
        1: RfmInput(recency_days=3, frequency=10, money=Decimal(900)),
        2: RfmInput(recency_days=30, frequency=5, money=Decimal(400)),
        3: RfmInput(recency_days=90, frequency=3, money=Decimal(300)),
        4: RfmInput(recency_days=200, frequency=2, money=Decimal(200)),
        5: RfmInput(recency_days=400, frequency=1, money=Decimal(100)),
        6: RfmInput(recency_days=0, frequency=0, money=Decimal(0)),
    }
    assert rfm(figures) == {1: "555", 2: "444", 3: "333", 4: "222", 5: "111"}


# --- properties ---------------------------------------------------------------------------

amounts = st.dictionaries(
    st.integers(1, 10_000),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2),
    min_size=1,
    max_size=60,
)
ORDER = {"A": 0, "B": 1, "C": 2}


@given(amounts)
def test_abc_classes_partition_the_clients(revenue):
    classes = abc(revenue)
    assert set(classes) == set(revenue)
    assert set(classes.values()) <= {"A", "B", "C"}


@given(amounts, st.integers(1, 1000))
def test_scaling_every_amount_changes_no_class(revenue, factor):
    scaled = {k: v * factor for k, v in revenue.items()}
    assert abc(scaled) == abc(revenue)
    assert abc(scaled, AbcRule(rule="crossing")) == abc(revenue, AbcRule(rule="crossing"))
    figures = {k: RfmInput(k % 7, k % 5 + 1, v) for k, v in revenue.items()}
    scaled_figures = {
        k: RfmInput(f.recency_days, f.frequency, f.money * factor) for k, f in figures.items()
    }
    assert rfm(scaled_figures) == rfm(figures)


@given(amounts)
def test_more_revenue_never_a_worse_abc_class(revenue):
    for rule in (AbcRule(), AbcRule(rule="crossing")):
        classes = abc(revenue, rule)
        for k1, v1 in revenue.items():
            for k2, v2 in revenue.items():
                if v1 > v2:
                    assert ORDER[classes[k1]] <= ORDER[classes[k2]]


series_st = st.lists(st.integers(0, 10_000), min_size=3, max_size=24)


@given(st.dictionaries(st.integers(1, 500), series_st, max_size=30), st.integers(1, 100))
def test_xyz_scaling_changes_no_class_and_partitions(series, factor):
    classes = xyz(series)
    assert set(classes) == {k for k, s in series.items() if sum(s) > 0}
    assert xyz({k: [v * factor for v in s] for k, s in series.items()}) == classes


@given(st.dictionaries(st.integers(1, 500), st.integers(0, 1000), min_size=1, max_size=50))
def test_quintiles_are_monotone_and_in_range(values):
    scores = quintiles(values, higher_is_better=True)
    assert set(scores.values()) <= {1, 2, 3, 4, 5}
    for k1, v1 in values.items():
        for k2, v2 in values.items():
            if v1 > v2:
                assert scores[k1] >= scores[k2]
