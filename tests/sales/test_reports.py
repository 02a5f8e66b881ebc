"""Sales reports against a small data set computed by hand; the pages and the API.

alice (Sales): d1 1000 RUB New→Needs→Offer→Won (created 1 Feb, won 10 Feb: 9 days),
d2 500 USD New→Won (15→20 Feb: 5 days), d3 300 RUB New→Needs→Lost «r1» (closed 5 Feb),
d4 2000 RUB New→Needs→Offer, open, expected 1 Mar (weighted 60 % = 1200),
d5 100 RUB at New, open, no expected close (weighted 10 % = 10).
bob (Sales): d6 700 RUB New→…→Invoice→Won (20 Jan → 3 Mar: 42 days), d7 400 RUB New→Lost «r2»
(closed 10 Mar). carol (Retail): d8 999 RUB New→Won (1 → 11 Feb: 10 days).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kartoteka.sales import plans, reports, services
from kartoteka.sales.models import Deal, LossReason, SalesPlan
from tests.api import Api, locs
from tests.sales import INVOICE, LOST, NEEDS, OFFER, WON, deal, first_pipeline, stage

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")
XSS = '"><img src=x onerror=alert(1)><svg onload=alert(1)>'
PERIOD = reports.Filters(dt.date(2026, 1, 1), dt.date(2026, 3, 1))
PARAMS = {"from": "2026-01", "to": "2026-03"}


def at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 12, tzinfo=MSK)


def made(owner, amount, currency="RUB", expected=None, path=(), reason=None, times=None):
    item = deal(owner, amount=Decimal(amount), currency=currency, expected_close=expected)
    for position in path:
        extra = {"loss_reason": reason} if position == LOST else {}
        if position == OFFER and item.expected_close is None:
            extra["expected_close"] = dt.date(2026, 3, 15)
        item = services.move_deal(None, item, stage(position), item.version, extra)
    if times:
        created, closed = times
        Deal.objects.filter(pk=item.pk).update(created_at=created, closed_at=closed)
    else:
        Deal.objects.filter(pk=item.pk).update(created_at=at(2, 1))
    return item


@pytest.fixture
def data(alice, bob, carol, helen):
    r1, r2 = LossReason.objects.order_by("position")[:2]
    return {
        "d1": made(alice, 1000, path=(NEEDS, OFFER, WON), times=(at(2, 1), at(2, 10))),
        "d2": made(alice, 500, "USD", path=(WON,), times=(at(2, 15), at(2, 20))),
        "d3": made(alice, 300, path=(NEEDS, LOST), reason=r1, times=(at(2, 1), at(2, 5))),
        "d4": made(alice, 2000, expected=dt.date(2026, 3, 1), path=(NEEDS, OFFER)),
        "d5": made(alice, 100),
        "d6": made(bob, 700, path=(NEEDS, OFFER, INVOICE, WON), times=(at(1, 20), at(3, 3))),
        "d7": made(bob, 400, path=(LOST,), reason=r2, times=(at(3, 1), at(3, 10))),
        "d8": made(carol, 999, path=(WON,), times=(at(2, 1), at(2, 11))),
        "r1": r1,
        "r2": r2,
    }


def rub(value) -> dict[str, Decimal]:
    return {"RUB": Decimal(value)}


# --- the figures ------------------------------------------------------------------------------


def test_outcomes_for_an_administrator(admin, data):
    figures = reports.outcomes(admin, PERIOD)
    assert (figures.won, figures.lost, figures.win_rate) == (4, 2, 67)
    assert figures.won_amount == {"RUB": Decimal(2699), "USD": Decimal(500)}
    assert figures.average_deal == {"RUB": Decimal("899.67"), "USD": Decimal(500)}
    assert figures.cycle_days == Decimal("16.5")  # (9 + 5 + 42 + 10) / 4


def test_a_manager_counts_only_their_deals(alice, data):
    figures = reports.outcomes(alice, PERIOD)
    assert (figures.won, figures.lost, figures.win_rate) == (2, 1, 67)
    assert figures.won_amount == {"RUB": Decimal(1000), "USD": Decimal(500)}
    assert figures.cycle_days == Decimal("7.0")
    assert [row.deals for row in reports.losses(alice, PERIOD)] == [1]
    assert [r.figures.won for r in reports.per_manager(alice, PERIOD)] == [2]


def test_the_period_and_filters_narrow(admin, bob, data):
    march = reports.Filters(dt.date(2026, 3, 1), dt.date(2026, 3, 1))
    assert (reports.outcomes(admin, march).won, reports.outcomes(admin, march).lost) == (1, 1)
    only_bob = reports.Filters(PERIOD.start, PERIOD.end, owner=bob)
    assert reports.outcomes(admin, only_bob).won_amount == rub(700)


def test_forecast_by_expected_close_month(admin, data):
    rows = {row.month: row for row in reports.forecast(admin, PERIOD)}
    assert list(rows) == [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1), None]
    march, undated = rows[dt.date(2026, 3, 1)], rows[None]
    assert (march.weighted, march.total, march.deals) == (rub(1200), rub(2000), 1)
    assert (undated.weighted, undated.total, undated.deals) == (rub(10), rub(100), 1)
    assert rows[dt.date(2026, 2, 1)].deals == 0


def test_funnel_counts_deals_that_reached_each_stage(admin, alice, data):
    rows = reports.funnel(admin, PERIOD, first_pipeline())
    assert [(r.reached, r.conversion) for r in rows] == [
        (8, None),
        (6, 75),
        (5, 83),
        (4, 80),
        (4, 100),
        (2, None),
    ]
    mine = reports.funnel(alice, PERIOD, first_pipeline())
    assert [r.reached for r in mine] == [5, 4, 3, 2, 2, 1]


def test_funnel_counts_the_furthest_stage_of_deals_moved_back_or_reopened(alice):
    back = made(alice, 10, path=(NEEDS, OFFER, NEEDS))  # furthest: Offer, now at Needs
    first = LossReason.objects.first()
    reopened = made(alice, 10, expected=dt.date(2026, 3, 1), path=(INVOICE, LOST), reason=first)
    services.move_deal(None, reopened, stage(NEEDS), reopened.version)  # lost, then reopened
    made(alice, 10, path=(WON,))  # at the last stage: reached everything
    rows = reports.funnel(alice, PERIOD, first_pipeline())
    assert [r.reached for r in rows] == [3, 3, 3, 2, 1, 0]
    assert [r.conversion for r in rows] == [None, 100, 100, 67, 50, None]
    assert back.pk and reopened.pk


def test_loss_reasons(admin, data):
    rows = reports.losses(admin, PERIOD)
    assert {(r.reason, r.deals, r.amount["RUB"]) for r in rows} == {
        (data["r1"], 1, Decimal(300)),
        (data["r2"], 1, Decimal(400)),
    }


def test_per_manager(admin, alice, bob, carol, data):
    rows = {r.owner: r.figures for r in reports.per_manager(admin, PERIOD)}
    assert set(rows) == {alice, bob, carol}
    assert (rows[alice].won, rows[alice].lost, rows[alice].open_deals) == (2, 1, 2)
    assert rows[alice].weighted == rub(1210)
    assert (rows[bob].won, rows[bob].win_rate, rows[bob].cycle_days) == (1, 50, Decimal(42))


def test_plan_vs_fact(admin, alice, carol, helen, sales, data):
    february = dt.date(2026, 2, 1)
    SalesPlan.objects.create(month=february, owner=alice, amount=2000, deals=3)
    SalesPlan.objects.create(month=february, team=sales, amount=3000, deals=2)
    SalesPlan.objects.create(month=february, owner=carol, amount=1000, deals=1)
    rows = {(r.owner, r.team): r for r in plans.plan_vs_fact(admin, PERIOD)}
    mine = rows[(alice, None)]
    assert (mine.fact, mine.fact_deals, mine.percent, mine.deals_percent) == (
        {"RUB": Decimal(1000), "USD": Decimal(500)},
        2,
        50,
        66,
    )
    assert rows[(None, sales)].fact_amount == Decimal(1000) and rows[(None, sales)].fact_deals == 2
    assert rows[(carol, None)].percent == 99
    assert [(r.owner, r.team) for r in plans.plan_vs_fact(alice, PERIOD)] == [(alice, None)]
    assert {(r.owner, r.team) for r in plans.plan_vs_fact(helen, PERIOD)} == {
        (alice, None),
        (None, sales),
    }


def test_query_count_does_not_grow_with_deals(client, admin, alice):
    client.force_login(admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/deals/reports/", PARAMS).status_code == 200
            reports.outcomes(admin, PERIOD)
            reports.forecast(admin, PERIOD)
            reports.funnel(admin, PERIOD, first_pipeline())
            reports.losses(admin, PERIOD)
            reports.per_manager(admin, PERIOD)
            plans.plan_vs_fact(admin, PERIOD)
        return len(captured)

    def add(n: int) -> None:
        for i in range(n):
            path = (NEEDS, WON) if i % 2 else (LOST,)
            made(alice, 10 + i, path=path, reason=LossReason.objects.first())

    add(5)
    count()  # the rights are read once and kept on the user
    few = count()
    add(45)
    assert count() == few


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_the_figures(client, admin, data):
    client.force_login(admin)
    response = client.get("/deals/reports/", {"from": "2026-01", "to": "2026-03"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="outcomes"' in html and "67%" in html
    assert "1,200.00 RUB" in html or "1 200,00 RUB" in html or "1200.00 RUB" in html
    assert "<progress" in html and "style=" not in html.split("<main", 1)[1]


def test_the_page_as_a_manager_lists_only_themselves(alice_client, alice, bob, data):
    response = alice_client.get("/deals/reports/", {"from": "2026-01", "to": "2026-03"})
    assert response.status_code == 200
    owners = response.context["owners"]
    assert list(owners) == [alice]
    assert response.context["outcomes"].won == 2
    # Another manager's id is refused, not silently counted.
    response = alice_client.get("/deals/reports/", {"owner": bob.pk})
    assert response.status_code == 422 and "owner" in response.context["errors"]


@pytest.mark.parametrize(
    ("params", "key"),
    [({"from": "2026-13"}, "from"), ({"from": "2026-03", "to": "2026-01"}, "to")],
)
def test_the_page_names_a_bad_period(client, admin, params, key):
    client.force_login(admin)
    response = client.get("/deals/reports/", params)
    assert response.status_code == 422 and key in response.context["errors"]


def test_names_are_escaped(client, admin, alice, data):
    alice.first_name = XSS
    alice.save()
    data["r1"].name = XSS
    data["r1"].save()
    client.force_login(admin)
    html = client.get("/deals/reports/", {"from": "2026-01", "to": "2026-03"}).content.decode()
    assert XSS not in html and "&lt;img src=x" in html


# --- the API ----------------------------------------------------------------------------------


def test_api_shapes(admin, data):
    api = Api(admin)
    body = api.get("/reports/sales/outcomes", PARAMS).json()
    assert body == {
        "won": 4,
        "lost": 2,
        "win_rate": 67,
        "won_amount": {"RUB": "2699.00", "USD": "500.00"},
        "average_deal": {"RUB": "899.67", "USD": "500.00"},
        "cycle_days": "16.5",
    }
    body = api.get("/reports/sales/forecast", PARAMS).json()
    assert [m["month"] for m in body["months"]] == ["2026-01", "2026-02", "2026-03"]
    assert body["months"][2] == {
        "month": "2026-03",
        "weighted": {"RUB": "1200.00"},
        "total": {"RUB": "2000.00"},
        "deals": 1,
    }
    assert body["undated"]["month"] is None and body["undated"]["deals"] == 1
    body = api.get("/reports/sales/funnel", PARAMS).json()
    assert [(s["reached"], s["conversion"]) for s in body["stages"]][:3] == [
        (8, None),
        (6, 75),
        (5, 83),
    ]
    assert set(body["stages"][0]) == {"id", "name", "kind", "reached", "conversion"}
    body = api.get("/reports/sales/losses", PARAMS).json()
    assert sorted(i["deals"] for i in body["items"]) == [1, 1]
    assert set(body["items"][0]["reason"]) == {"id", "name"}
    body = api.get("/reports/sales/managers", PARAMS).json()
    assert len(body["items"]) == 3 and "weighted" in body["items"][0]
    body = api.get("/reports/sales/plan-fact", PARAMS).json()
    assert body == {"items": []}


def test_api_for_a_manager_counts_only_their_deals(alice, bob, data):
    api = Api(alice)
    assert api.get("/reports/sales/outcomes", PARAMS).json()["won"] == 2
    stages = api.get("/reports/sales/funnel", PARAMS).json()["stages"]
    assert stages[0]["reached"] == 5
    assert locs(api.get("/reports/sales/outcomes", {"owner": bob.pk})) == [["query", "owner"]]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"from": "2026-03", "to": "2026-01"}, ["query", "to"]),
        ({"from": "2026-1"}, ["query", "from"]),
        ({"to": "март"}, ["query", "to"]),
        ({"from": "2026-03-01"}, ["query", "from"]),
        ({"_connector": "OR"}, ["query", "_connector"]),
        ({"pipeline": "999999"}, ["query", "pipeline"]),
        ({"owner": "x"}, ["query", "owner"]),
    ],
)
def test_api_refuses_bad_periods_and_filters(admin, params, loc):
    assert locs(Api(admin).get("/reports/sales/forecast", params)) == [loc]
