"""The staffing plan: page and API agree with erlang.py, volumes and AHT come from history,
bad input is named, plain operators are refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from kartoteka.callcenter import erlang
from kartoteka.callcenter.models import Call, OperatorStatusChange
from kartoteka.staffing import history
from kartoteka.staffing.planning import Inputs, parse_forecast
from tests.api import Api
from tests.callcenter.conftest import make_operator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_leaked_zone():
    """A test here activates UTC: later modules' tests (the KPIs' Moscow days) must not see it."""
    yield
    timezone.deactivate()


NOW = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)  # a Monday, before the day's calls


def test_api_numbers_match_erlang(helen):
    body = {"forecast": [100, 40, 0], "aht_s": 180, "target_sl": 0.8, "answer_s": 20}
    response = Api(helen).post("/calls/staffing", {**body, "shrinkage": 0.3})
    assert response.status_code == 200, response.content
    rows = response.json()["rows"]
    expected = erlang.staff_intervals(
        [100, 40, 0], 1800, 180, erlang.Target(0.8, 20, None, 0.85, 0.3)
    )
    assert [r["agents"] for r in rows] == [s.agents for s in expected]
    assert [r["scheduled_agents"] for r in rows] == [s.scheduled_agents for s in expected]
    assert rows[0]["service_level"] == pytest.approx(expected[0].measures.service_level)
    assert rows[0]["asa_s"] == pytest.approx(expected[0].measures.asa_s)
    assert [r["interval"] for r in rows] == ["08:00", "08:30", "09:00"]
    # The example: 14 agents at 100 calls / 30 min answer 88.8 % within 20 s.
    assert erlang.measures(erlang.Traffic(100, 1800, 180), 14).service_level == pytest.approx(
        0.88835, abs=1e-4
    )


def test_erlang_a_and_an_asa_target(admin):
    body = {"forecast": [60], "aht_s": 240, "target_asa_s": 15, "patience_s": 90}
    row = Api(admin).post("/calls/staffing", body).json()["rows"][0]
    staffed = erlang.agents_needed(
        erlang.Traffic(60, 1800, 240, 90), erlang.Target(None, 20, 15, 0.85, 0.3)
    )
    assert row["agents"] == staffed.agents and row["abandonment"] > 0
    assert row["abandonment"] == pytest.approx(staffed.measures.abandonment)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"forecast": [10, -1], "aht_s": 180}, ["body", "forecast", 1]),
        ({"forecast": [10], "aht_s": 180, "interval_minutes": 45}, ["body", "interval_minutes"]),
        ({"forecast": [10], "aht_s": 180, "target_sl": 1.5}, ["body", "target_sl"]),
        ({"forecast": [10], "aht_s": 180, "day_start": 9, "day_end": 8}, ["body", "day_end"]),
        ({"forecast": [10]}, ["body", "aht_s"]),  # no history to take it from
        ({"forecast": []}, ["body", "forecast"]),
        ({"source": "history"}, ["body", "weeks"]),  # no calls in these weeks
        ({"forecast": [10], "aht_s": 180, "agents": 3}, ["body", "agents"]),
        (
            {"forecast": [10], "aht_s": 180, "target_sl": 0.8, "target_asa_s": 9},
            ["body", "target_sl"],
        ),
    ],
)
def test_bad_input_is_named(admin, body, loc):
    response = Api(admin).post("/calls/staffing", body)
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == loc


def test_operators_are_refused(client, sales):
    olga = make_operator("olga", "101", sales)
    assert Api(olga.user).post("/calls/staffing", {"forecast": [1], "aht_s": 60}).status_code == 403
    client.force_login(olga.user)
    assert client.get("/calls/staffing/").status_code == 403


def test_forecast_rows_are_named():
    assert parse_forecast("09:00\t12\n\n09:30;7,5\n10") == [12.0, 7.5, 10.0]
    with pytest.raises(Exception) as bad:
        parse_forecast("12\nabc\n1e9")
    assert bad.value.message_dict["forecast"][0].startswith("Row 2:")
    assert bad.value.message_dict["forecast"][1].startswith("Row 3:")


def _call(n: int, at: dt.datetime, talk: int, operator=None) -> Call:
    return Call.objects.create(
        provider="demo",
        call_id=f"h{n}",
        status="ended",
        queue="sales",
        started_at=at,
        answered_at=at + dt.timedelta(seconds=10),
        ended_at=at + dt.timedelta(seconds=10 + talk),
        operator=operator,
    )


def test_history_averages_days_with_calls_and_measures_aht(admin, sales, settings):
    settings.TIME_ZONE = "UTC"
    timezone.activate(dt.UTC)
    olga = make_operator("olga", "101", sales)
    monday = dt.datetime(2026, 11, 30, 9, 5, tzinfo=dt.UTC)
    calls = [
        _call(1, monday, 100, olga),
        _call(2, monday + dt.timedelta(minutes=10), 200, olga),
        _call(3, monday + dt.timedelta(days=1, minutes=40), 300, olga),  # Tuesday 09:45
        _call(4, monday + dt.timedelta(hours=12), 300),  # 21:05: outside the day's window
    ]
    OperatorStatusChange.objects.create(
        operator=olga,
        status="after_call",
        source="call",
        call=calls[0],
        started_at=calls[0].ended_at,
        ended_at=calls[0].ended_at + dt.timedelta(seconds=60),
    )
    inputs = Inputs(source="history", interval_minutes=30, day_start=9, day_end=11, weeks=2)
    found = history.volumes(admin, inputs, NOW)
    assert found.days == 2 and found.labels == ["09:00", "09:30", "10:00", "10:30"]
    assert found.calls == [1.0, 0.5, 0.0, 0.0]  # 2 calls at 09:00 over 2 days, 1 at 09:30
    assert found.aht_s == pytest.approx((100 + 200 + 300 + 300) / 4 + 60 / 4)
    week = history.volumes(
        admin, Inputs(source="history", span="week", day_start=9, day_end=10, weeks=2), NOW
    )
    assert week.labels[:3] == ["Mon 09:00", "Mon 09:30", "Tue 09:00"] and len(week.calls) == 14
    assert week.calls[:4] == [1.0, 0.0, 0.0, 0.5]
    assert history.volumes(admin, Inputs(source="history", queue="other", weeks=2), NOW).days == 0


def test_the_page_plans_a_forecast(client, helen):
    client.force_login(helen)
    assert client.get("/calls/staffing/").status_code == 200
    form = {
        "source": "forecast",
        "span": "day",
        "interval_minutes": 60,
        "day_start": 9,
        "day_end": 18,
        "weeks": 4,
        "forecast": "20\n30\nabc",
        "aht_s": 200,
        "goal": "sl",
        "target_sl": 0.8,
        "answer_s": 20,
        "shrinkage": 0.3,
        "max_occupancy": 0.85,
    }
    bad = client.post("/calls/staffing/", form)
    assert bad.status_code == 422 and "Row 3:" in bad.content.decode()
    good = client.post("/calls/staffing/", {**form, "forecast": "20\n30"})
    page = good.content.decode()
    assert good.status_code == 200 and 'id="staffing-table"' in page and "10:00" in page
    assert 'id="staffing-chart"' in page and "staffing-data" in page


# A week of quarter hours at 33,000 Erlangs each: ~2 s of CPU before the cap, minutes at the
# field maxima (a head's request must not hold a worker that long).
HEAVY = {"forecast": [30_000] * 672, "aht_s": 1000, "interval_minutes": 15, "span": "week"}


def test_a_plan_too_heavy_to_compute_is_refused_by_name(helen):
    response = Api(helen).post("/calls/staffing", HEAVY)
    assert response.status_code == 422, response.status_code
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "forecast"] and "Too much to compute" in error["msg"]
    # Erlang A costs more per call: a few intervals of long patience hit the cap too.
    patient = {
        "forecast": [1_000_000] * 3,
        "aht_s": 1,
        "patience_s": 86_400,
        "interval_minutes": 15,
    }
    assert Api(helen).post("/calls/staffing", patient).status_code == 422


def test_the_page_names_the_forecast_when_the_plan_is_too_heavy(client, helen):
    client.force_login(helen)
    form = {
        "source": "forecast",
        "span": "week",
        "interval_minutes": 15,
        "day_start": 0,
        "day_end": 24,
        "weeks": 4,
        "forecast": "\n".join(["30000"] * 672),
        "aht_s": 1000,
        "goal": "sl",
        "target_sl": 0.8,
        "answer_s": 20,
        "shrinkage": 0.3,
        "max_occupancy": 0.85,
    }
    with translation.override("ru"):
        response = client.post("/calls/staffing/", form, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 422
    assert "Слишком много" in response.content.decode()
