"""/api/v1/quality: scorecards CRUD, samples, evaluations and scores; scoped, versioned, and
hostile bodies refused with 422 naming the field or row."""

from __future__ import annotations

import pytest

from kartoteka.quality.models import Evaluation, Scorecard
from tests.api import Api
from tests.quality.conftest import T0, make_call

pytestmark = pytest.mark.django_db
CARD = {
    "name": "Basic",
    "criteria": [
        {"label": "Greeting", "weight": 1},
        {"label": "Solved", "kind": "scale", "max_score": 4, "weight": 3, "critical": True},
    ],
}
DAY = T0.date().isoformat()


def test_scorecards_crud(helen):
    api = Api(helen)
    created = api.post("/quality/scorecards", CARD)
    assert created.status_code == 201, created.json()
    card = created.json()
    assert card["version"] == 1 and [c["weight"] for c in card["criteria"]] == [1, 3]
    assert [c["id"] for c in api.get("/quality/scorecards").json()] == [card["id"]]
    changed = {**CARD, "name": "Renamed", "version": 1}
    assert api.send("put", f"/quality/scorecards/{card['id']}", changed, {}).status_code == 200
    stale = api.send("put", f"/quality/scorecards/{card['id']}", changed, {})
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    no_version = {**CARD}
    assert api.send("put", f"/quality/scorecards/{card['id']}", no_version, {}).status_code == 428
    assert api.delete(f"/quality/scorecards/{card['id']}").status_code == 204
    assert api.get(f"/quality/scorecards/{card['id']}").status_code == 404


def test_bad_criteria_are_named_by_row(helen):
    api = Api(helen)
    body = {"name": "X", "criteria": [{"label": "A", "weight": 1}, {"label": "B", "weight": 0}]}
    detail = api.post("/quality/scorecards", body).json()["detail"]
    assert detail[0]["loc"] == ["body", "criteria", 1, "weight"]
    assert detail[0]["msg"].startswith("Row 2:")
    for hostile in ({**CARD, "owner_id": 1}, {**CARD, "version": "x"}, {"name": "X"}):
        assert api.post("/quality/scorecards", hostile).status_code == 422
    assert not Scorecard.objects.exists()


def test_sample_evaluate_and_scores(helen, olga, oleg):
    api = Api(helen)
    card = api.post("/quality/scorecards", CARD).json()
    make_call(olga)
    make_call(olga, recording_url="javascript:alert(1)")
    make_call(oleg)
    body = {"scorecard_id": card["id"], "start": DAY, "end": DAY, "per_operator": 5, "seed": 9}
    sample = api.post("/quality/samples", body)
    assert sample.status_code == 201 and sample.json()["drawn"] == 2
    first = sample.json()["evaluation_ids"][0]
    read = api.get(f"/quality/evaluations/{first}")
    evaluation = read.json()
    assert evaluation["recording_url"].startswith("https://") and read["ETag"] == '"1"'
    a, b = (x["id"] for x in evaluation["answers"])
    scores = [{"answer_id": a, "score": 1}, {"answer_id": b, "score": 3, "comment": "ok"}]
    saved = api.send(
        "put",
        f"/quality/evaluations/{first}",
        {"scores": scores, "submit": True},
        {"If-Match": '"1"'},
    )
    assert saved.status_code == 200, saved.json()
    assert saved.json()["state"] == "submitted" and saved.json()["total"] == "81.25"
    series = api.get("/quality/scores", {"start": DAY, "end": DAY, "grain": "month"}).json()
    assert series["series"][0]["values"] == [81.25]
    assert api.get("/quality/evaluations", {"state": "pending"}).json()["items"][0]["id"] != first


def test_hostile_scores_change_nothing(helen, olga):
    api = Api(helen)
    card = api.post("/quality/scorecards", CARD).json()
    other = api.post("/quality/scorecards", {**CARD, "name": "Other"}).json()
    call, second = make_call(olga), make_call(olga)
    body = {"scorecard_id": card["id"], "start": DAY, "end": DAY, "per_operator": 1, "seed": 1}
    mine = api.post("/quality/samples", body).json()["evaluation_ids"][0]
    body["scorecard_id"] = other["id"]
    foreign = api.post("/quality/samples", body).json()["evaluation_ids"][0]
    foreign_answer = api.get(f"/quality/evaluations/{foreign}").json()["answers"][0]["id"]
    answer = api.get(f"/quality/evaluations/{mine}").json()["answers"][1]["id"]
    url = f"/quality/evaluations/{mine}"
    for scores, loc in (
        ([{"answer_id": answer, "score": 5}], ["body", "scores", 0, "score"]),
        ([{"answer_id": foreign_answer, "score": 1}], ["body", "scores", 0, "answer_id"]),
    ):
        response = api.send("put", url, {"scores": scores, "version": 1, "submit": True}, {})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == loc
    hostile = {"scores": [], "version": 1, "total": 100, "state": "submitted"}
    assert api.send("put", url, hostile, {}).status_code == 422
    row = Evaluation.objects.get(pk=mine)
    assert row.state == "pending" and row.total is None and row.version == 1
    assert {call.pk, second.pk} >= {row.call_id}


def test_operators_cannot_evaluate_nor_see_others(helen, olga, oleg):
    api = Api(helen)
    card = api.post("/quality/scorecards", CARD).json()
    make_call(olga)
    make_call(oleg)
    body = {"scorecard_id": card["id"], "start": DAY, "end": DAY, "per_operator": 1}
    ids = api.post("/quality/samples", body).json()["evaluation_ids"]
    rows = {e.operator_id: e for e in Evaluation.objects.filter(pk__in=ids)}
    as_olga = Api(olga)
    assert as_olga.get("/quality/scorecards").status_code == 403
    assert as_olga.post("/quality/scorecards", CARD).status_code == 403
    assert as_olga.post("/quality/samples", body).status_code == 403
    assert as_olga.get(f"/quality/evaluations/{rows[olga.pk].pk}").status_code == 404  # pending
    assert as_olga.get(f"/quality/evaluations/{rows[oleg.pk].pk}").status_code == 404
    answer = rows[olga.pk].answers.first()
    put = {"scores": [{"answer_id": answer.pk, "score": 1}], "version": 1, "submit": True}
    assert (
        as_olga.send("put", f"/quality/evaluations/{rows[olga.pk].pk}", put, {}).status_code == 404
    )
    assert as_olga.get("/quality/evaluations").json()["items"] == []
    # Submitted, olga reads hers and replies; oleg's stay hidden.
    assert api.send("put", f"/quality/evaluations/{rows[olga.pk].pk}", put, {}).status_code == 200
    assert [i["id"] for i in as_olga.get("/quality/evaluations").json()["items"]] == [
        rows[olga.pk].pk
    ]
    replied = as_olga.post(
        f"/quality/evaluations/{rows[olga.pk].pk}/reply", {"reply": "acknowledged"}
    )
    assert replied.status_code == 200 and replied.json()["reply"] == "acknowledged"
    assert (
        Api(oleg)
        .post(f"/quality/evaluations/{rows[olga.pk].pk}/reply", {"reply": "acknowledged"})
        .status_code
        == 404
    )
    assert (
        Scorecard.objects.count() == 1 and Evaluation.objects.filter(state="submitted").count() == 1
    )


def test_unknown_filters_are_refused(helen):
    api = Api(helen)
    for path, params in (
        ("/quality/evaluations", {}),
        ("/quality/scores", {"start": DAY, "end": DAY}),
    ):
        response = api.get(path, {**params, "owner__password": "a"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "owner__password"]
    assert api.get("/quality/evaluations", {"cursor": "garbage"}).status_code == 422
    assert api.get("/quality/scores", {"start": DAY, "end": "2020-01-01"}).status_code == 422
