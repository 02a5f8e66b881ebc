"""The recompute job on a real database: classes, history rows, tallies, currencies."""

from __future__ import annotations

import datetime as dt

import pytest

from kartoteka.segments import queries
from kartoteka.segments.models import ClassChange, ClientClass, Tally
from kartoteka.segments.recompute import recompute
from tests.segments.factories import at, buy, client

pytestmark = pytest.mark.django_db

NOW = at(dt.date(2026, 7, 1))  # the default window: January–June 2026


@pytest.fixture
def shop(alice, bob):
    # Total 7600: Big 78.9% cumulative (A), Mid 94.7% (B), Other 98.7% (C), Small 100% (C).
    big = client("Big", owner=alice)  # 1000 every month: A, X
    for month in range(1, 7):
        buy(big, dt.date(2026, month, 10), 1000)
    mid = client("Mid", owner=alice)  # 1200 in two months: B, Z (zero months count)
    buy(mid, dt.date(2026, 2, 3), 600)
    buy(mid, dt.date(2026, 5, 3), 600)
    other = client("Other", owner=bob)  # 300 in three months: C
    for month in (1, 2, 3):
        buy(other, dt.date(2026, month, 5), 100)
    small = client("Small", owner=bob)  # 100 once, recently: C; too few periods → no XYZ
    buy(small, dt.date(2026, 6, 20), 100)
    buy(small, dt.date(2026, 6, 21), 40, currency="USD")  # another currency: left out
    idle = client("Idle", owner=bob)  # no purchases: no classes, a lead
    return {"big": big, "mid": mid, "small": small, "idle": idle}


def test_classes_and_figures(shop):
    run = recompute(now=NOW)
    got = {c.client.name: c for c in ClientClass.objects.select_related("client")}
    assert (got["Big"].abc, got["Big"].xyz) == ("A", "X")
    assert (got["Mid"].abc, got["Mid"].xyz) == ("B", "Z")
    assert (got["Small"].abc, got["Small"].xyz) == ("C", "")
    assert got["Small"].periods == 1
    assert (got["Idle"].abc, got["Idle"].rfm, got["Idle"].cycle) == ("", "", "lead")
    assert got["Big"].revenue == 6000 and got["Big"].purchases == 6
    assert got["Big"].cycle == "loyal" and got["Mid"].cycle == "repeat"
    assert got["Small"].cycle == "first_order"
    assert run["excluded"] == {"USD": {"purchases": 1, "amount": "40.00"}}
    assert run["clients"] == 5 and run["with_purchases"] == 4
    assert ClassChange.objects.count() == 0  # the first run only classifies


def test_history_rows_only_on_change(shop):
    recompute(now=NOW)
    recompute(now=NOW)
    assert ClassChange.objects.count() == 0
    buy(shop["small"], dt.date(2026, 6, 25), 50000)  # now the biggest client
    recompute(now=NOW)
    changes = {(c.measure, c.old, c.new) for c in ClassChange.objects.filter(client=shop["small"])}
    assert ("abc", "C", "B") in changes  # 50100 of 57700: 86.8% cumulative
    assert ("cycle", "first_order", "repeat") in changes
    assert queries.client_class(shop["small"].pk).abc == "B"


def test_tallies_per_owner(shop, alice, bob):
    recompute(now=NOW)
    alice_cells = dict(
        Tally.objects.filter(owner=alice, chart="abcxyz").values_list("key", "clients")
    )
    assert alice_cells == {"AX": 1, "BZ": 1}
    assert Tally.objects.get(owner=bob, chart="cycle", key="lead").clients == 1
    assert Tally.objects.get(owner=alice, chart="abcxyz", key="AX").revenue == 6000


def test_trashed_clients_are_left_out(shop):
    from django.utils import timezone

    shop["big"].deleted_at = timezone.now()
    shop["big"].save(update_fields=["deleted_at"])
    recompute(now=NOW)
    assert not ClientClass.objects.filter(client_id=shop["big"].pk).exists()
    # Without Big: Mid holds 1200 of 1600, 75% → A.
    assert ClientClass.objects.get(client=shop["mid"]).abc == "A"


def test_dashboard_tallies(shop, alice):
    from kartoteka.activities.models import Interaction

    Interaction.objects.create(
        client=shop["big"], kind="call", occurred_at=at(dt.date(2026, 3, 3)), author=alice
    )
    recompute(now=NOW)
    sales = {
        t.key: (t.clients, t.revenue, t.count)
        for t in Tally.objects.filter(owner=alice, chart="sales")
    }
    assert sales["2026-02"] == (2, 1600, 2)  # Big 1000 + Mid 600
    assert sales["2026-01"] == (1, 1000, 1)
    cohort = Tally.objects.get(owner=alice, chart="cohort", key="2026-02:2026-05")
    assert (cohort.clients, cohort.revenue) == (1, 600)  # Mid, first bought in February
    assert Tally.objects.get(owner=alice, chart="activity", key="2026-03:call").count == 1
    assert not Tally.objects.filter(chart="leads").exists()  # created now, after the window
