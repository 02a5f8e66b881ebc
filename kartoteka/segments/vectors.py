"""ABC, XYZ and RFM over arrays (numpy): the rules of `classify`, for a million clients at once.

`classify` is the reference (one dict entry at a time, exact `Decimal`s); these functions give
the same classes for the same figures — the tests compare them on random inputs. Amounts come in
whole kopecks (int64), so that ABC's shares are still compared exactly: `cumulative · 100 ≤
a · total` becomes `cumulative ≤ ⌊a · total / 100⌋`, the bound computed with Python's exact
fractions once, the comparison done in integers for every client.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from kartoteka.segments.classify import AbcRule, XyzRule

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Letters = npt.NDArray[np.str_]


def abc(cents: Ints, rule: AbcRule) -> Letters:
    """ "A", "B" or "C" per client, "" for no revenue (`cents` ≤ 0): `classify.abc`'s rule."""
    out = np.full(cents.shape, "", dtype="<U1")
    positive = np.flatnonzero(cents > 0)
    if positive.size == 0:
        return out
    order = positive[np.argsort(-cents[positive], kind="stable")]
    values = cents[order]
    total = int(values.sum(dtype=np.int64))
    # Clients with equal revenue are ranked together: a tie group shares the cumulative sum
    # after the whole group ("own") or before it ("crossing").
    starts = np.r_[True, values[1:] != values[:-1]]
    group = np.cumsum(starts) - 1
    ends = np.r_[starts[1:], True]
    after = np.cumsum(values, dtype=np.int64)[ends]
    if rule.rule == "own":
        share = after[group]
        limits = [_floor(threshold, total) for threshold in (rule.a, rule.b)]
    else:
        share = np.r_[np.int64(0), after[:-1]][group]
        # before · 100 < t · total  ⇔  before ≤ ⌈t · total / 100⌉ − 1
        limits = [-_floor(-Fraction(threshold), total) - 1 for threshold in (rule.a, rule.b)]
    letters = np.where(share <= limits[0], "A", np.where(share <= limits[1], "B", "C"))
    out[order] = letters
    return out


def _floor(threshold: object, total: int) -> int:
    """⌊threshold · total / 100⌋, exactly."""
    return math.floor(Fraction(str(threshold)) * total / 100)


def variation(total: Floats, squares: Floats, periods: Ints) -> Floats:
    """`classify.variation_from_sums` per client, NaN where it answers None."""
    valid = (periods > 0) & (total > 0)
    p = np.where(valid, periods, 1).astype(np.float64)
    mean = total / p
    var = np.maximum(squares / p - mean * mean, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.sqrt(var) / mean * 100
    return np.where(valid, cv, np.nan)


def xyz(cv: Floats, periods: Ints, rule: XyzRule) -> Letters:
    """`classify.xyz_letter` per client, "" where it answers None."""
    x, y = float(rule.x) + 1e-9, float(rule.y) + 1e-9
    letters = np.where(cv <= x, "X", np.where(cv <= y, "Y", "Z"))
    return np.where(np.isnan(cv) | (periods < rule.min_periods), "", letters)


def quintiles(values: npt.NDArray[np.generic], higher_is_better: bool) -> Ints:
    """`classify.quintiles`: ⌈5 · (worse + 1) / n⌉, `worse` the clients strictly worse."""
    n = values.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    ordered = np.sort(values)
    if higher_is_better:
        worse = np.searchsorted(ordered, values, side="left")
    else:
        worse = n - np.searchsorted(ordered, values, side="right")
    return -((-5 * (worse.astype(np.int64) + 1)) // n)


def rfm(recency_days: Ints, frequency: Ints, cents: Ints) -> Letters:
    """The three RFM digits per client ("545"), every client having bought at least once."""
    r = quintiles(recency_days, higher_is_better=False)
    f = quintiles(frequency, higher_is_better=True)
    m = quintiles(cents, higher_is_better=True)
    return (r * 100 + f * 10 + m).astype("<U3")
