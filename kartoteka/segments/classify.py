"""ABC, XYZ and RFM classes from plain numbers: no database in here.

Every function takes a mapping of a key (a client id) to that client's figures and answers a
mapping of the same keys to a class. Amounts are `Decimal`s (or anything with exact `*`, `+`,
`<=`), so that shares are compared exactly: `cumulative * 100 <= threshold * total` rather
than a rounded percentage.

ABC — value. Clients are sorted by revenue, largest first; a client's cumulative share is the
revenue of every client with at least as much revenue, over the total. With the default rule
("own") a client's own cumulative share decides: ≤ a → A, ≤ b → B, else C. With the rule
"crossing" the client whose revenue crosses a threshold still belongs to the class below it
(the share before it decides). Clients with equal revenue always get the same class (ties are
ranked together), so the class is a function of revenue alone.

XYZ — stability. The coefficient of variation (population standard deviation over the mean,
in %) of a client's revenue per period, a period without revenue counting as zero: ≤ x → X,
≤ y → Y, else Z. A client with fewer than `min_periods` periods, or with no revenue at all, gets
no class (`None`): they are listed, visibly, as not classified.

RFM — recency, frequency, money, each scored 1–5 by quintiles, 5 the best (the most recent, the
most frequent, the largest). A score is the quintile of the client's percentile rank,
⌈5 · (worse + 1) / n⌉, where `worse` is the number of clients strictly worse on that
dimension: the best client always scores 5, and equal values get equal scores.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

ABC_RULES = ("own", "crossing")


@dataclass(frozen=True)
class AbcRule:
    a: Decimal = Decimal(80)
    b: Decimal = Decimal(95)
    rule: str = "own"

    def __post_init__(self) -> None:
        if not (0 < self.a <= self.b <= 100):
            raise ValueError("ABC thresholds must satisfy 0 < a <= b <= 100")
        if self.rule not in ABC_RULES:
            raise ValueError(f"ABC rule must be one of {ABC_RULES}")


@dataclass(frozen=True)
class XyzRule:
    x: Decimal = Decimal(10)
    y: Decimal = Decimal(25)
    min_periods: int = 3

    def __post_init__(self) -> None:
        if not (0 <= self.x <= self.y):
            raise ValueError("XYZ thresholds must satisfy 0 <= x <= y")
        if self.min_periods < 2:
            raise ValueError("XYZ needs at least 2 periods")


def abc(revenue: Mapping[K, Decimal], rule: AbcRule = AbcRule()) -> dict[K, str]:
    """A, B or C for each client with revenue above zero; others are left out."""
    positive = {k: v for k, v in revenue.items() if v > 0}
    total = sum(positive.values(), Decimal(0))
    if not positive:
        return {}
    by_value: dict[Decimal, list[K]] = {}
    for key, value in positive.items():
        by_value.setdefault(value, []).append(key)
    result: dict[K, str] = {}
    cumulative = Decimal(0)
    for value in sorted(by_value, reverse=True):
        keys = by_value[value]
        before = cumulative
        cumulative += value * len(keys)
        letter = _letter(cumulative if rule.rule == "own" else before, total, rule)
        for key in keys:
            result[key] = letter
    return result


def _letter(share: Decimal, total: Decimal, rule: AbcRule) -> str:
    """The class of a cumulative `share` of `total`: compared as share·100 vs threshold·total."""
    scaled = share * 100
    if rule.rule == "own":
        # The client's own cumulative share: at most a → A, at most b → B.
        return "A" if scaled <= rule.a * total else "B" if scaled <= rule.b * total else "C"
    # "crossing": the share before the client; the client that crosses a threshold is inside.
    return "A" if scaled < rule.a * total else "B" if scaled < rule.b * total else "C"


def variation(series: Sequence[Decimal | float]) -> float | None:
    """The coefficient of variation of `series` in %, population standard deviation; None when
    the mean is zero."""
    n = len(series)
    if n == 0:
        return None
    values = [float(v) for v in series]
    mean = math.fsum(values) / n
    if mean <= 0:
        return None
    var = math.fsum((v - mean) ** 2 for v in values) / n
    return math.sqrt(var) / mean * 100


def variation_from_sums(total: float, squares: float, periods: int) -> float | None:
    """The same coefficient from the sum and the sum of squares over `periods` periods (the
    periods without revenue add nothing to either): what the database aggregates give."""
    if periods <= 0 or total <= 0:
        return None
    mean = total / periods
    var = max(squares / periods - mean * mean, 0.0)
    return math.sqrt(var) / mean * 100


def xyz_letter(cv: float | None, periods: int, rule: XyzRule = XyzRule()) -> str | None:
    if cv is None or periods < rule.min_periods:
        return None
    # A tolerance of 1e-9 %: the sums give a CV a rounding error away from the exact one.
    if cv <= float(rule.x) + 1e-9:
        return "X"
    if cv <= float(rule.y) + 1e-9:
        return "Y"
    return "Z"


def xyz(series: Mapping[K, Sequence[Decimal | float]], rule: XyzRule = XyzRule()) -> dict[K, str]:
    """X, Y or Z for each client whose series is long enough and not all zero."""
    result: dict[K, str] = {}
    for key, values in series.items():
        letter = xyz_letter(variation(values), len(values), rule)
        if letter is not None:
            result[key] = letter
    return result


def quintiles(values: Mapping[K, float | Decimal | int], higher_is_better: bool) -> dict[K, int]:
    """1–5 for each key, 5 for the best fifth; equal values score the same."""
    n = len(values)
    if n == 0:
        return {}
    ordered = sorted(set(values.values()), reverse=not higher_is_better)
    # `ordered` runs from the worst value to the best one.
    counts: dict[float | Decimal | int, int] = {}
    for value in values.values():
        counts[value] = counts.get(value, 0) + 1
    worse: dict[float | Decimal | int, int] = {}
    seen = 0
    for value in ordered:
        worse[value] = seen
        seen += counts[value]
    return {k: -((-5 * (worse[v] + 1)) // n) for k, v in values.items()}


@dataclass(frozen=True)
class RfmInput:
    recency_days: int
    frequency: int
    money: Decimal


def rfm(figures: Mapping[K, RfmInput]) -> dict[K, str]:
    """The three RFM digits ("545") for each client with at least one purchase."""
    bought = {k: f for k, f in figures.items() if f.frequency > 0}
    r = quintiles({k: f.recency_days for k, f in bought.items()}, higher_is_better=False)
    f = quintiles({k: f.frequency for k, f in bought.items()}, higher_is_better=True)
    m = quintiles({k: f.money for k, f in bought.items()}, higher_is_better=True)
    return {k: f"{r[k]}{f[k]}{m[k]}" for k in bought}
