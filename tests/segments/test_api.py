"""/api/v1/segments and /api/v1/analytics: CRUD, counts scoped to the viewer, refusals that
change nothing, static lists, exports through the export pipeline, classes of a client."""

from __future__ import annotations

import datetime as dt

import pytest

from kartoteka.core.models import AuditEntry
from kartoteka.segments.models import AnalyticsConfig, Segment, SegmentMember
from kartoteka.segments.recompute import recompute
from kartoteka.transfer.models import Export
from tests.api import Api
from tests.segments.factories import at, buy, client

pytestmark = pytest.mark.django_db
CUSTOMERS = {"match": "all", "conditions": [{"field": "stage", "op": "eq", "value": "customer"}]}


@pytest.fixture
def people(alice, bob, carol):
    return {
        "a1": client("A1", owner=alice, stage="customer"),
        "a2": client("A2", owner=alice, stage="customer"),
        "b1": client("B1", owner=bob, stage="customer"),
        "c1": client("C1", owner=carol, stage="customer"),
        "lead": client("L1", owner=alice, stage="lead"),
    }


def state():
    return (
        list(Segment.objects.values_list("id", "name", "rules", "shared", "version")),
        list(SegmentMember.objects.values_list("segment_id", "client_id")),
        Export.objects.count(),
    )


def test_create_count_and_use_as_list_filter(alice, helen, people):
    api = Api(alice)
    made = api.post("/segments", {"name": "Customers", "rules": CUSTOMERS})
    assert made.status_code == 201, made.json()
    pk = made.json()["id"]
    assert api.get(f"/segments/{pk}/count").json() == {"count": 2}  # alice's own only
    page = api.get(f"/segments/{pk}/clients").json()
    assert [c["name"] for c in page["items"]] == ["A1", "A2"]
    listed = api.get("/persons", {"segment": pk}).json()
    assert sorted(c["name"] for c in listed["items"]) == ["A1", "A2"]
    assert AuditEntry.objects.filter(action="create", target_kind="segment").exists()
    # helen (head of Sales) sees alice's and bob's customers, once the segment is shared.
    assert Api(helen).get(f"/segments/{pk}/count").status_code == 404
    api.patch(f"/segments/{pk}", {"shared": True}, **{"If-Match": '"1"'})
    assert Api(helen).get(f"/segments/{pk}/count").json() == {"count": 3}


def test_preview_and_fields(alice, people):
    api = Api(alice)
    assert api.post("/segments/preview", {"rules": CUSTOMERS}).json() == {"count": 2}
    fields = {f["field"] for f in api.get("/segments/fields").json()}
    assert {"stage", "purchases.sum", "abc", "rfm.r", "cycle"} <= fields


def _one(condition):
    return {"match": "all", "conditions": [condition]}


@pytest.mark.parametrize(
    ("rules", "loc"),
    [
        (
            _one({"field": "owner__password__startswith", "op": "eq", "value": "x"}),
            ["body", "rules", "conditions", 0, "field"],
        ),
        (
            _one({"field": "stage", "op": "eq", "value": "x", "_connector": "OR"}),
            ["body", "rules", "conditions", 0, "_connector"],
        ),
        (
            _one({"field": "x__regex", "op": "eq", "value": "x"}),
            ["body", "rules", "conditions", 0, "field"],
        ),
    ],
)
def test_hostile_rules_422_and_nothing_saved(alice, people, rules, loc):
    before = state()
    response = Api(alice).post("/segments", {"name": "Bad", "rules": rules})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc
    assert state() == before


def test_others_private_segments_are_404_and_shared_ones_403_to_change(alice, bob, people):
    private = Api(bob).post("/segments", {"name": "Bob's", "rules": CUSTOMERS}).json()["id"]
    shared = Api(bob).post("/segments", {"name": "Team", "rules": CUSTOMERS, "shared": True})
    shared_id = shared.json()["id"]
    before = state()
    api = Api(alice)
    assert api.get(f"/segments/{private}").status_code == 404
    assert api.get(f"/segments/{private}/count").status_code == 404
    assert api.delete(f"/segments/{private}").status_code == 404
    assert api.post(f"/segments/{private}/export", {"format": "csv"}).status_code == 404
    assert api.get("/persons", {"segment": private}).status_code == 422
    assert (
        api.patch(f"/segments/{shared_id}", {"name": "Mine"}, **{"If-Match": '"1"'}).status_code
        == 403
    )
    assert api.delete(f"/segments/{shared_id}").status_code == 403
    assert state() == before
    assert api.get(f"/segments/{shared_id}/count").json() == {"count": 2}  # alice's view


def test_stale_version_is_412(alice, people):
    api = Api(alice)
    pk = api.post("/segments", {"name": "S", "rules": CUSTOMERS}).json()["id"]
    assert api.patch(f"/segments/{pk}", {"name": "T"}, **{"If-Match": '"1"'}).status_code == 200
    stale = api.patch(f"/segments/{pk}", {"name": "U"}, **{"If-Match": '"1"'})
    assert stale.status_code == 412
    assert Segment.objects.get(pk=pk).name == "T"
    assert api.patch(f"/segments/{pk}", {"name": "U"}).status_code == 428


def test_static_list_members_only_visible_clients(alice, people):
    api = Api(alice)
    pk = api.post("/segments", {"name": "Picked", "kind": "static"}).json()["id"]
    ok = api.post(f"/segments/{pk}/members", {"add": [people["a1"].pk, people["lead"].pk]})
    assert ok.status_code == 200 and ok.json()["added"] == 2
    before = state()
    foreign = api.post(f"/segments/{pk}/members", {"add": [people["a2"].pk, people["c1"].pk]})
    assert foreign.status_code == 422
    assert foreign.json()["detail"][0]["loc"] == ["body", "add"]
    assert state() == before
    assert api.get(f"/segments/{pk}/count").json() == {"count": 2}
    api.post(f"/segments/{pk}/members", {"remove": [people["lead"].pk]})
    assert api.get(f"/segments/{pk}/count").json() == {"count": 1}


def test_export_goes_through_the_pipeline(alice, people):
    api = Api(alice)
    pk = api.post("/segments", {"name": "Customers", "rules": CUSTOMERS}).json()["id"]
    made = api.post(f"/segments/{pk}/export", {"format": "csv"})
    assert made.status_code == 201, made.json()
    export = Export.objects.get()
    assert (export.rows, export.status, export.query) == (2, "approved", f"segment={pk}")


def test_client_classes(alice, people):
    for month in (1, 2, 3, 4, 5, 6):
        buy(people["a1"], dt.date(2026, month, 5), 100)
    recompute(now=at(dt.date(2026, 7, 1)))
    api = Api(alice)
    got = api.get(f"/analytics/clients/{people['a1'].pk}").json()
    assert (got["xyz"], got["purchases"], got["currency"]) == ("X", 6, "RUB")
    assert api.get(f"/analytics/clients/{people['c1'].pk}").status_code == 404


def test_settings_admin_only(alice, admin):
    assert Api(alice).get("/analytics/settings").status_code == 403
    before = list(AnalyticsConfig.objects.values())
    assert Api(alice).patch("/analytics/settings", {"abc_a": 70, "version": 1}).status_code == 403
    assert list(AnalyticsConfig.objects.values()) == before
    api = Api(admin)
    version = api.get("/analytics/settings").json()["version"]
    bad = api.patch("/analytics/settings", {"abc_a": 99, "abc_b": 90, "version": version})
    assert bad.status_code == 422
    good = api.patch("/analytics/settings", {"abc_a": 70, "version": version})
    assert good.status_code == 200 and float(good.json()["abc_a"]) == 70
    assert api.post("/analytics/recompute").status_code == 202
