"""GET /api/v1/calls/kpi: the figures, scoped by role; hostile parameters answer 422 naming
the parameter, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api import Api
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("moscow")]
DAY = {"from": "2026-12-01", "to": "2026-12-01"}


def test_the_report_as_json(admin, world):
    body = Api(admin).get("/calls/kpi", DAY).json()
    assert body["variant"] == "offered" and body["answer_s"] == 20
    (row,) = body["rows"]
    assert row["key"] == "sales" and row["offered"] == 4
    assert row["service_level"] == pytest.approx(0.25) and row["asa_s"] == pytest.approx(20.5)
    assert row["aht_s"] == pytest.approx(100) and row["fcr"] == 0.5
    assert body["total"]["answered"] == 2


def test_grouped_by_interval_and_operator(admin, olga, world):
    api = Api(admin)
    hours = api.get("/calls/kpi", DAY | {"group": "interval", "interval": "hour"}).json()
    assert [r["key"] for r in hours["rows"]] == ["2026-12-01T13:00:00+03:00"]
    people = api.get("/calls/kpi", DAY | {"group": "operator", "variant": "answered"}).json()
    by_key = {r["key"]: r for r in people["rows"]}
    assert by_key[olga.pk]["service_level"] == 0.5 and by_key[None]["abandoned"] == 3


def test_an_operator_gets_their_own_figures(olga, oleg, world):
    body = Api(oleg.user).get("/calls/kpi", DAY).json()
    assert body["rows"] == [] and body["total"]["answered"] == 0
    assert Api(olga.user).get("/calls/kpi", DAY).json()["total"]["answered"] == 2


def test_a_role_without_calls_is_refused(db, world):
    marketer = make_user("mia", role="marketer")
    assert Api(marketer).get("/calls/kpi", DAY).status_code == 403
    assert Api(None).get("/calls/kpi", DAY).status_code == 401


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "2026-11-01"}, "to"),
        ({"to": "2028-01-01"}, "to"),
        ({"group": "queue');--"}, "group"),
        ({"interval": "UTC')--"}, "interval"),
        ({"group": "interval", "interval": "hour", "to": "2027-01-15"}, "interval"),
        ({"answer_s": "-1"}, "answer_s"),
        ({"answer_s": "1e9"}, "answer_s"),
        ({"answer_s": "²"}, "answer_s"),
        ({"short_abandon_s": "601"}, "short_abandon_s"),
        ({"variant": "both"}, "variant"),
        ({"queue": "q" * 81}, "queue"),
        ({"queue": "a\x00b"}, "queue"),
        ({"operator_id": "0"}, "operator_id"),
        ({"_connector": "OR"}, "_connector"),
        ({"operator__user__password__startswith": "p"}, "operator__user__password__startswith"),
    ],
)
def test_bad_parameters_are_named(admin, params, name):
    response = Api(admin).get("/calls/kpi", DAY | params)
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["query", name]


KEYS = ["from", "to", "group", "interval", "answer_s", "variant", "short_abandon_s", "queue"]
VALUES = st.text(max_size=12) | st.integers(-(2**70), 2**70).map(str) | st.dates().map(str)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from([*KEYS, "operator_id"]) | st.text(max_size=8), VALUES, max_size=4
    )
)
def test_garbage_parameters_never_500(admin, params):
    response = Api(admin).get("/calls/kpi", params)
    assert response.status_code in (200, 422), (params, response.content)
