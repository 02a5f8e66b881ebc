"""The regularized incomplete gamma function, written here because scipy is not a dependency.

P(s, x) = γ(s, x) / Γ(s) by its power series when x < s + 1 and by the continued fraction of
the upper function Q = 1 − P otherwise (each converges fast on its side: O(√x) terms at most).
Erlang A needs it as A(x, y) = x·e^y·y^−x·γ(x, y) = Σ_j y^j / ∏_{k=1..j}(x+k), which can be
astronomically large in an overloaded queue, so everything is returned as a logarithm.
"""

from __future__ import annotations

import math

_EPS = 1e-16
_TINY = 1e-300
_MAX_TERMS = 10_000_000


def _series(s: float, x: float) -> float:
    """Σ_j x^j / ∏_{k=1..j}(s+k), for x < s + 1 where the ratio of terms falls below one."""
    term = total = 1.0
    k = s
    for _ in range(_MAX_TERMS):
        k += 1.0
        term *= x / k
        total += term
        if term < total * _EPS:
            return total
    raise ArithmeticError("incomplete gamma: the series did not converge")


def _log_upper_cf(s: float, x: float) -> float:
    """log Q(s, x) by the continued fraction for Γ(s, x), evaluated by modified Lentz, x ≥ s+1."""
    b = x + 1.0 - s
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - s)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            return -x + s * math.log(x) - math.lgamma(s) + math.log(h)
    raise ArithmeticError("incomplete gamma: the continued fraction did not converge")


def log_gamma_p(s: float, x: float) -> float:
    """log P(s, x), the regularized lower incomplete gamma function, for s > 0 and x ≥ 0."""
    if s <= 0 or x < 0:
        raise ValueError("incomplete gamma: needs s > 0 and x ≥ 0")
    if x == 0:
        return -math.inf
    if x < s + 1.0:
        return -x + s * math.log(x) - math.lgamma(s + 1.0) + math.log(_series(s, x))
    return math.log1p(-math.exp(_log_upper_cf(s, x)))


def gamma_p(s: float, x: float) -> float:
    return math.exp(log_gamma_p(s, x))


def gamma_q(s: float, x: float) -> float:
    """The upper one, Q = 1 − P, computed directly where P is close to one."""
    if x < s + 1.0:
        return -math.expm1(log_gamma_p(s, x))
    return math.exp(_log_upper_cf(s, x))


def log_a(x: float, y: float) -> float:
    """log A(x, y) = log Σ_j y^j / ∏_{k=1..j}(x+k) = log(x·e^y·y^−x·γ(x, y)), x > 0, y ≥ 0."""
    if y == 0:
        return 0.0
    if y < x + 1.0:  # the series is A itself: no cancellation between the large prefactors
        return math.log(_series(x, y))
    return math.lgamma(x + 1.0) + y - x * math.log(y) + log_gamma_p(x, y)


def _digamma_tail(z: float) -> float:
    """ψ(z) − ln z + 1/(2z) for z ≥ 10: the asymptotic series, error below 1e-14."""
    inv2 = 1.0 / (z * z)
    return -inv2 * (
        1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 / 132)))
    )


def harmonic(a: float, m: int) -> float:
    """Σ_{i=0..m−1} 1/(a+i) = ψ(a+m) − ψ(a), for a > 0, in O(1) for large m.

    Summed directly for short runs; otherwise as log1p(m/a) plus differences of the digamma
    function's small asymptotic terms, so no two large logarithms are subtracted."""
    total = 0.0
    while m > 0 and (m < 64 or a < 10.0):
        total += 1.0 / a
        a += 1.0
        m -= 1
    if m == 0:
        return total
    b = a + m
    return (
        total + math.log1p(m / a) - 0.5 * (1.0 / b - 1.0 / a) + _digamma_tail(b) - _digamma_tail(a)
    )
