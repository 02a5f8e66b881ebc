"""The total of an evaluation: pure arithmetic over (score, highest score, weight, critical).

total = Σ weight·score/highest ÷ Σ weight, over the criteria that apply (score None = not
applicable), as a percentage; a failed critical criterion makes the total 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


class Scored(Protocol):
    score: int | None
    max_score: int
    weight: int
    critical: bool


@dataclass(frozen=True)
class Total:
    percent: Decimal | None  # None when no criterion applies
    critical_failed: bool


def failed(score: int | None, max_score: int) -> bool:
    """Below half the scale: a "no" on a yes/no criterion, 0–4 of 10 on a scale."""
    return score is not None and score * 2 < max_score


def total(items: Iterable[Scored]) -> Total:
    points = Decimal(0)
    weights = 0
    critical_failed = False
    for item in items:
        if item.score is None:
            continue
        weights += item.weight
        points += Decimal(item.weight * item.score) / Decimal(item.max_score)
        critical_failed = critical_failed or (item.critical and failed(item.score, item.max_score))
    if weights == 0:
        return Total(None, critical_failed)
    if critical_failed:
        return Total(Decimal("0.00"), True)
    return Total((points * HUNDRED / weights).quantize(CENT, ROUND_HALF_UP), False)
