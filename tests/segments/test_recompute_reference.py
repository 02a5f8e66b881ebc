"""The bulk recompute against the per-client reference (`classes_of`, `cycle.stage`) on random
shops: the same classes, figures, history rows and tallies, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client
from kartoteka.segments import cycle, measures, scan
from kartoteka.segments.config import current, cycle_rule, default_window
from kartoteka.segments.models import ClassChange, ClientClass, Tally
from kartoteka.segments.recompute import MEASURES, classes_of, recompute
from tests.segments.factories import MSK

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 7, 1, 9, 30, 0, 250000, tzinfo=MSK)  # window: July 2025 – June 2026


def _shop(seed: int, owners: list) -> None:
    r = random.Random(seed)
    clients = [
        Client(
            kind="person",
            name=f"C{seed}-{k}",
            last_name=f"C{k}",
            owner=r.choice(owners),
            stage=r.choice(["lead", "prospect", "customer"]),
            last_contact_at=r.choice(
                [
                    None,
                    NOW - dt.timedelta(days=181),
                    NOW - dt.timedelta(days=180, hours=23),
                    NOW - dt.timedelta(days=r.randint(0, 400)),
                ]
            ),
        )
        for k in range(60)
    ]
    Client.objects.bulk_create(clients)
    rows = []
    for c in clients:
        for _ in range(r.choice([0, 1, 2, 3, 5, 8, 20])):
            # Exact day boundaries (now − 91 days, − 181 days, the window's end) with and
            # without fractions of a second, and times anywhere over two years. (Not a
            # microsecond before midnight: SQLite's date functions round to milliseconds, so
            # the reference's months would put such a purchase in the next month.)
            when = r.choice(
                [
                    NOW
                    - dt.timedelta(
                        days=r.choice([90, 91, 180, 181]), microseconds=r.choice([0, 1, -1])
                    ),
                    dt.datetime(2026, 7, 1, tzinfo=MSK)
                    - dt.timedelta(days=r.randint(0, 3), microseconds=r.choice([0, -1, 250000])),
                    NOW - dt.timedelta(seconds=r.randint(0, 730 * 86400)),
                ]
            )
            amount = Decimal(r.choice([100, 250, 1000, r.randint(1, 5_000_000)])) / 100
            currency = "USD" if r.random() < 0.1 else "RUB"
            rows.append(
                Interaction(
                    client=c, kind="purchase", occurred_at=when, amount=amount, currency=currency
                )
            )
    Interaction.objects.bulk_create(rows)
    trashed = clients[0]
    trashed.deleted_at = timezone.now()
    trashed.save(update_fields=["deleted_at"])


def _expected(previous: dict[int, tuple[str, ...]]) -> dict[int, tuple]:
    config = current()
    window = default_window(config, NOW)
    figures = {f.client_id: f for f in measures.purchase_figures(config.currency, window, NOW)}
    found = classes_of(figures.values(), window, config)
    out = {}
    for c in Client.objects.all():
        f = figures.get(c.pk)
        stage = cycle.stage(
            purchases=f.purchases_ever if f else 0,
            last_purchase_at=f.last_ever if f else None,
            last_contact_at=c.last_contact_at,
            card_stage=c.stage,
            previous=previous.get(c.pk, ("", "", "", ""))[3],
            now=NOW,
            rule=cycle_rule(config),
        )
        out[c.pk] = (
            found.abc.get(c.pk, ""),
            found.xyz.get(c.pk, ""),
            found.rfm.get(c.pk, ""),
            stage,
            f.revenue if f else Decimal(0),
            f.purchases if f else 0,
            found.periods.get(c.pk, 0),
            found.cv.get(c.pk),
            f.first_at if f else None,
            f.last_at if f else None,
        )
    return out


def _stored() -> dict[int, tuple]:
    return {
        c.client_id: (
            c.abc,
            c.xyz,
            c.rfm,
            c.cycle,
            c.revenue,
            c.purchases,
            c.periods,
            c.cv,
            c.first_purchase_at,
            c.last_purchase_at,
        )
        for c in ClientClass.objects.all()
    }


def _same(got: dict[int, tuple], expected: dict[int, tuple]) -> None:
    assert got.keys() == expected.keys()
    for pk, row in expected.items():
        *exact, cv, first, last = row
        *got_exact, got_cv, got_first, got_last = got[pk]
        assert tuple(got_exact) == tuple(exact), pk
        # The CV comes from a sum of squares less a squared mean: a rounding error of the size
        # of the mean's last digits (the reference sums floats on SQLite, the job kopecks).
        close = cv is None or got_cv == pytest.approx(cv, rel=1e-9, abs=1e-4)
        assert (got_cv is None) == (cv is None) and close, pk
        assert (got_first, got_last) == (first, last), pk


@pytest.mark.parametrize(("seed", "bulk_rows"), [(1, 100_000), (2, 100_000), (3, 1)])
def test_bulk_recompute_matches_the_reference(seed, bulk_rows, alice, bob, monkeypatch):
    # bulk_rows=1: the class table's indexes dropped and rebuilt around the insert.
    monkeypatch.setattr(scan, "BULK_ROWS", bulk_rows)
    _shop(seed, [alice, bob, None])
    expected = _expected({})
    run = recompute(now=NOW)
    _same(_stored(), expected)
    assert run["clients"] == len(expected)
    assert run["with_purchases"] == sum(1 for row in expected.values() if row[5] > 0)
    assert run["excluded"] == measures.excluded("RUB", default_window(current(), NOW))
    cells = Counter()
    for row in expected.values():
        cells[("cycle", row[3])] += 1
        if row[0]:
            cells[("abcxyz", row[0] + (row[1] or "-"))] += 1
    tallied = Tally.objects.filter(chart__in=["cycle", "abcxyz"]).values_list(
        "chart", "key", "clients"
    )
    totals = Counter()
    for chart, key, n in tallied:
        totals[(chart, key)] += n
    assert totals == cells

    # A second run after new purchases: history rows for exactly the classes that moved.
    before = {pk: row[:4] for pk, row in _stored().items()}
    some = list(Client.objects.order_by("pk")[:20])
    Interaction.objects.bulk_create(
        Interaction(
            client=c,
            kind="purchase",
            occurred_at=NOW - dt.timedelta(days=k % 5 + 1),
            amount=Decimal(1000 * (k + 1)),
            currency="RUB",
        )
        for k, c in enumerate(some)
    )
    expected = _expected(before)
    run = recompute(now=NOW)
    _same(_stored(), expected)
    moved = {
        (pk, measure, was, now_is)
        for pk, row in expected.items()
        for measure, was, now_is in zip(MEASURES, before.get(pk, ("",) * 4), row[:4], strict=True)
        if was != now_is
    }
    got = set(ClassChange.objects.values_list("client_id", "measure", "old", "new"))
    assert got == moved and run["changes"] == len(moved)
