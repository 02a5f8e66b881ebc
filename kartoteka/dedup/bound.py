"""The batch scan's last step: an upper bound on each candidate pair's score, computed in
numpy, drops the pairs that cannot reach the match score before `engine.compare` scores the
rest one by one in Python (at a million clients most candidate pairs go here).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler

from kartoteka.dedup import engine
from kartoteka.dedup.batch import Column, Table, candidate_pairs, distinct, ranges, shared


def _shares(
    owner: np.ndarray, values: Column, a: np.ndarray, b: np.ndarray, rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair (a[k], b[k]): whether they share a value, whether both have one."""
    ok = values.codes >= 0
    owner, code = owner[ok], values.codes[ok]
    order = np.argsort(owner, kind="stable")
    code = code[order]
    counts = np.bincount(owner, minlength=rows)
    starts = np.cumsum(counts) - counts
    count_a, count_b = counts[a], counts[b]
    entry = np.repeat(np.arange(len(a)), count_a)  # one per value of a
    value_a = code[ranges(starts[a], count_a)]
    per_entry = count_b[entry]
    probe = np.repeat(np.arange(len(entry)), per_entry)  # a's value against each of b's
    value_b = code[ranges(starts[b][entry], per_entry)]
    found = np.zeros(len(a), dtype=bool)
    found[entry[probe[value_a[probe] == value_b]]] = True
    return found, (count_a > 0) & (count_b > 0)


def _maybe_close(days: Column, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Birthdays that may be one typo apart (a generous test: at most two digits differ, or
    the same year): `engine._birthday` decides; this only rules out the rest."""
    width = max((len(v) for v in days.vocab), default=0)
    digits_ = np.full((len(days.vocab) + 1, max(width, 1)), -1, dtype=np.int16)
    for row, value in enumerate(days.vocab):
        digits_[row, : len(value)] = [ord(ch) for ch in value]
    lengths = np.asarray([len(v) for v in days.vocab] + [0])
    x, y = days.codes[a], days.codes[b]  # -1 picks the blank last row
    differ = (digits_[x] != digits_[y]).sum(axis=1)
    same_year = (digits_[x][:, :4] == digits_[y][:, :4]).all(axis=1)
    return (lengths[x] == lengths[y]) & ((differ <= 2) | same_year)


def _per_distinct(column: Column, x: np.ndarray, y: np.ndarray, scorer: Any) -> np.ndarray:
    """scorer(vocab[x[k]], vocab[y[k]]) for every k, computed once per distinct pair, in C."""
    width = len(column.vocab)
    pairs, inverse = distinct(x * width + y)
    vocab = np.asarray(column.vocab, dtype=object)
    scores = process.cpdist(
        vocab[pairs // width], vocab[pairs % width], scorer=scorer, dtype=np.float32
    )
    return np.asarray(scores, dtype=np.float64)[inverse.ravel()]


def _address_points(t: Table, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """At least what `engine._address` gives each pair (the similarities computed in C)."""
    x, y = t.address.codes[a], t.address.codes[b]
    both = np.flatnonzero((x >= 0) & (y >= 0))
    out = np.zeros(len(a))
    if not len(both):
        return out
    x, y = x[both], y[both]
    sim = _per_distinct(t.address, x, y, fuzz.token_sort_ratio) / 100
    low = np.flatnonzero(sim < 0.85)
    if len(low):
        subset = _per_distinct(t.address, x[low], y[low], fuzz.token_set_ratio)
        sim[low[subset >= 95]] = 0.85  # engine._address_sim's "a part left out"
    penalty = np.where(t.company[a[both]], -2.0, -1.0)
    points = np.select(
        [sim >= 0.9, sim >= 0.8, sim >= 0.7, sim < 0.5], [2.0, 1.0, 0.5, penalty], 0.0
    )
    out[both] = points
    return out


def _similarity(column: Column, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """`engine._sim` of each pair of codes, NaN where either is blank (computed in C)."""
    out = np.full(len(x), np.nan)
    both = np.flatnonzero((x >= 0) & (y >= 0))
    if not len(both):
        return out
    sim = _per_distinct(column, x[both], y[both], JaroWinkler.normalized_similarity)
    lengths = np.asarray([len(v) for v in column.vocab])
    initial = (lengths[x[both]] == 1) | (lengths[y[both]] == 1)
    if initial.any():
        heads = np.asarray([v[:1] for v in column.vocab], dtype=object)
        same_head = heads[x[both][initial]] == heads[y[both][initial]]
        sim[initial] = np.where(same_head, 0.9, 0.0)
    out[both] = sim
    return out


def _orientation_passes(last: np.ndarray, first: np.ndarray) -> np.ndarray:
    known = ~np.isnan(last) | ~np.isnan(first)
    return known & ~(first < 0.82) & ~(last < 0.8)  # NaN compares False: a blank passes


def _names_may_pass(t: Table, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairs whose names `engine._names` might accept in either orientation (a superset)."""
    last, first = shared(t.last, t.first)
    direct = _orientation_passes(
        _similarity(last, last.codes[a], last.codes[b]),
        _similarity(last, first.codes[a], first.codes[b]),
    )
    swapped = _orientation_passes(
        _similarity(last, last.codes[a], first.codes[b]),
        _similarity(last, first.codes[a], last.codes[b]),
    )
    return direct | swapped


def _surname_may_change(t: Table, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    last, first = shared(t.last, t.first)
    best = np.fmax(
        _similarity(last, first.codes[a], first.codes[b]),
        _similarity(last, first.codes[a], last.codes[b]),
    )
    best = np.fmax(best, _similarity(last, last.codes[a], first.codes[b]))
    return best >= 0.93


def upper_bound(t: Table, pairs: np.ndarray) -> np.ndarray:
    """The most points each pair could get from `engine.compare` (-inf where it returns None
    outright: a person and a company, two valid INNs that differ). Every term is at least what
    compare adds for it, so a pair under MATCH_POINTS here is under it there."""
    a, b = pairs[:, 0], pairs[:, 1]
    phone, phones = _shares(t.phone_owner, t.phone, a, b, len(t))
    email, _emails = _shares(t.email_owner, t.email, a, b, len(t))
    inn_a, inn_b = t.inn.codes[a], t.inn.codes[b]
    points = phone * 3.0 - (phones & ~phone) * 0.5 + email * 4.0 + (inn_a >= 0) * 5.0
    points += ((t.passport.codes[a] >= 0) & (t.passport.codes[b] >= 0)) * 6.0
    strong = (inn_a >= 0) & (inn_a == inn_b) | (t.passport.codes[a] >= 0) & (
        t.passport.codes[b] >= 0
    )
    names_ok = _names_may_pass(t, a, b) | t.company[a]
    same_day = (t.bday.codes[a] >= 0) & (t.bday.codes[a] == t.bday.codes[b])
    names_ok |= _surname_may_change(t, a, b) & (same_day | strong)
    # the name and a patronymic's half point; compare's -1 when only a document holds them
    points += np.where(t.company[a], 3.0, np.where(names_ok, 3.5, np.where(strong, -1.0, -np.inf)))
    day_a, day_b = t.bday.codes[a], t.bday.codes[b]
    both_days = (day_a >= 0) & (day_b >= 0) & ~t.company[a]  # companies: no birthday
    close = _maybe_close(t.bday, a, b)
    points += np.where(both_days, np.where(day_a == day_b, 3.0, np.where(close, 1.0, -2.0)), 0.0)
    points += _address_points(t, a, b)
    impossible = (t.company[a] != t.company[b]) | ((inn_a >= 0) & (inn_b >= 0) & (inn_a != inn_b))
    return np.where(impossible, -np.inf, points)


def find_pairs(t: Table, skip: Iterable[tuple[int, int]] = ()) -> list[engine.Pair]:
    """Every likely duplicate pair of the table, by client id (a < b), best first."""
    skipped = {(min(a, b), max(a, b)) for a, b in skip}
    candidates = candidate_pairs(t)
    candidates = candidates[upper_bound(t, candidates) >= engine.MATCH_POINTS]
    prepared = t.prepared(np.unique(candidates).tolist())
    found = []
    for i, j in candidates.tolist():
        a, b = prepared[i], prepared[j]
        key = (a.id, b.id) if a.id < b.id else (b.id, a.id)
        if key in skipped:
            continue
        match = engine.compare(a, b)
        if match is not None:
            found.append(engine.Pair(key[0], key[1], match.score, match.reasons))
    found.sort(key=lambda p: (-p.score, p.a, p.b))
    return found
