"""The demo contact centre: deterministic for a seed, consistent rows, added once."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict

import pytest

from kartoteka.callcenter import demo
from kartoteka.callcenter.models import Call, Operator, OperatorStatusChange, Queue

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC)  # a Friday


def _snapshot() -> list[tuple]:  # type: ignore[type-arg]
    return list(
        Call.objects.order_by("call_id").values_list(
            "call_id", "status", "started_at", "answered_at", "ended_at", "extension", "queue"
        )
    )


def test_demo_calls_are_seeded_consistent_and_added_once(admin):
    figures = demo.load(days=7, seed=3, now=NOW)
    assert figures["calls"] > 300 and Queue.objects.count() == 2 and Operator.objects.count() == 6
    first = _snapshot()
    statuses = {row[1] for row in first}
    assert {"ended", "abandoned"} <= statuses
    assert demo.load(days=7, seed=3, now=NOW)["calls"] == 0  # once
    for call in Call.objects.filter(status="ended"):
        assert call.operator_id and call.started_at <= call.answered_at < call.ended_at
    lost = Call.objects.filter(status__in=Call.LOST)
    assert lost.exists() and not lost.filter(callback_task__isnull=True).exists()
    # Each operator's history is a sequence of intervals that never overlap.
    spans = defaultdict(list)
    for row in OperatorStatusChange.objects.order_by("started_at"):
        spans[row.operator_id].append((row.started_at, row.ended_at))
    for rows in spans.values():
        for (_s1, e1), (s2, _e2) in itertools.pairwise(rows):
            assert e1 is not None and e1 <= s2
    Call.objects.all().delete()
    OperatorStatusChange.objects.all().delete()
    demo.load(days=7, seed=3, now=NOW)
    assert _snapshot() == first  # the same seed, the same calls
