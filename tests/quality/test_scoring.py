"""The total: weighted percentage over the criteria that apply; a failed critical one zeroes it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kartoteka.quality.scoring import failed, total


@dataclass
class Item:
    score: int | None
    max_score: int = 1
    weight: int = 1
    critical: bool = False


def test_weights():
    # yes (weight 1) and 2 of 4 (weight 3): (1 + 3·0.5) / 4 = 62.5 %
    assert total([Item(1), Item(2, 4, 3)]).percent == Decimal("62.50")


def test_rounding_is_half_up():
    # 1 of 3 equal weights: 33.333… → 33.33; 2 of 3 → 66.67
    assert total([Item(1), Item(0), Item(0)]).percent == Decimal("33.33")
    assert total([Item(1), Item(1), Item(0)]).percent == Decimal("66.67")


def test_not_applicable_criteria_leave_the_denominator():
    assert total([Item(1), Item(None, weight=5)]).percent == Decimal("100.00")
    assert total([Item(None), Item(None)]).percent is None


def test_a_failed_critical_criterion_zeroes_the_total():
    result = total([Item(1, weight=9), Item(0, critical=True)])
    assert result.percent == Decimal("0.00") and result.critical_failed
    # Passed (or not applicable) critical criteria change nothing.
    assert total([Item(1), Item(1, critical=True)]).percent == Decimal("100.00")
    assert not total([Item(1), Item(None, critical=True)]).critical_failed


def test_failed_is_below_half_the_scale():
    assert failed(0, 1) and not failed(1, 1)
    assert failed(4, 10) and not failed(5, 10)
    assert not failed(None, 10)
