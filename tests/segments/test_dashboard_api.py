"""/api/v1/analytics/dashboards/{page}: the dashboards' charts as data, scoped to the viewer."""

from __future__ import annotations

import datetime as dt

import pytest

from kartoteka.segments import dashboard_tallies
from kartoteka.segments.recompute import recompute
from tests.api import Api
from tests.conftest import make_user
from tests.segments.factories import at, buy, client

pytestmark = pytest.mark.django_db
NOW = at(dt.date(2026, 7, 1))


@pytest.fixture
def shop(alice, carol):
    big = client("Big", owner=alice, stage="customer")
    for month in range(1, 7):
        buy(big, dt.date(2026, month, 10), 1000)
    far = client("Far", owner=carol)
    buy(far, dt.date(2026, 3, 5), 5000)
    recompute(now=NOW)
    dashboard_tallies.refresh(now=NOW)


@pytest.mark.parametrize(
    "page", ["overview", "classes", "cycle", "cohorts", "conversion", "managers"]
)
def test_every_page(admin, shop, page):
    answer = Api(admin).get(f"/analytics/dashboards/{page}", {"from": "2026-01", "to": "2026-06"})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["start"] == "2026-01" and body["charts"]
    assert all(len(c["labels"]) >= 0 and c["header"] for c in body["charts"])


def test_head_sees_the_team_only(helen, shop):
    body = Api(helen).get("/analytics/dashboards/classes").json()
    matrix = next(c for c in body["charts"] if c["key"] == "abcxyz")
    assert sum(sum(s["values"]) for s in matrix["series"]) == 1  # Big; Far is another team's


def test_refusals(alice, admin, carol, shop):
    assert Api(alice).get("/analytics/dashboards/overview").status_code == 403
    api = Api(admin)
    assert api.get("/analytics/dashboards/nope").status_code == 404
    bad = api.get("/analytics/dashboards/overview", {"from": "2026-13"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "from"]
    assert api.get("/analytics/dashboards/overview", {"from": "UTC')--"}).status_code == 422
    assert (
        api.get("/analytics/dashboards/overview", {"x__regex": "1"}).status_code == 200
    )  # ignored
    helen_view = Api(make_user("hana", role="head")).get(
        "/analytics/dashboards/overview", {"owner": carol.pk}
    )
    assert helen_view.status_code == 422
    assert helen_view.json()["detail"][0]["loc"] == ["query", "owner"]
