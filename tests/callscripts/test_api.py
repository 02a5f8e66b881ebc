"""/api/v1/call-scripts and /api/v1/calls/{id}/script: supervisors write scripts, the call's
operator answers, hostile bodies get a 422 naming the field and change nothing."""

from __future__ import annotations

import pytest

from kartoteka.callscripts import services
from kartoteka.callscripts.models import Answer, Run, Script, Step
from tests.api import Api
from tests.callscripts.conftest import build, make_call

pytestmark = pytest.mark.django_db


def loc(response) -> list:
    return response.json()["detail"][0]["loc"]


def test_a_supervisor_builds_a_script_through_the_api(helen, queue):
    api = Api(helen)
    made = api.post(
        "/call-scripts", {"name": "Support", "direction": "in", "queue_ids": [queue.pk]}
    )
    assert made.status_code == 201, made.json()
    script = made.json()
    sid, version = script["id"], script["version"]
    assert script["errors"] == ["The script has no steps."]
    end = api.post(
        f"/call-scripts/{sid}/steps", {"text": "Bye", "kind": "final", "version": version}
    )
    assert end.status_code == 201
    end_id, version = end.json()["steps"][0]["id"], end.json()["version"]
    body = {
        "text": "Hello {first_name}",
        "kind": "choice",
        "position": 0,
        "options": [{"label": "ok", "next_step_id": end_id}],
    }
    first = api.post(f"/call-scripts/{sid}/steps", body, **{"If-Match": f'"{version}"'})
    assert first.status_code == 201 and first["ETag"] == f'"{version + 1}"'
    detail = first.json()
    assert [s["number"] for s in detail["steps"]] == [1, 2] and detail["errors"] == []
    step = detail["steps"][0]
    body["options"] = [{"id": step["options"][0]["id"], "label": "fine", "next_step_id": end_id}]
    changed = api.send(
        "put", f"/call-scripts/{sid}/steps/{step['id']}", {**body, "version": version + 1}, {}
    )
    assert changed.json()["steps"][0]["options"][0]["label"] == "fine"
    active = api.patch(
        f"/call-scripts/{sid}", {"name": "Support", "is_active": True, "version": version + 2}
    )
    assert active.status_code == 200 and active.json()["is_active"] is True
    assert api.get("/call-scripts").json()[0]["name"] == "Support"
    assert api.delete(f"/call-scripts/{sid}").status_code == 204
    assert api.get(f"/call-scripts/{sid}").status_code == 404
    assert api.post(f"/call-scripts/{sid}/restore").json()["is_active"] is False


def test_versions_are_required_and_checked(helen, script):
    api = Api(helen)
    body = {"name": "Renamed"}
    assert api.patch(f"/call-scripts/{script.pk}", body).status_code == 428
    stale = api.patch(f"/call-scripts/{script.pk}", {**body, "version": script.version - 1})
    assert stale.status_code == 412 and stale.json()["current_version"] == script.version
    step = services.live_steps(script)[1]
    assert api.delete(f"/call-scripts/{script.pk}/steps/{step.pk}").status_code == 428
    assert Script.objects.get(pk=script.pk).name == "Sales"


def test_bad_bodies_name_the_field(helen, script):
    api = Api(helen)
    steps = services.live_steps(script)
    other = build(helen, name="Zeta")
    foreign = services.live_steps(other)[0]
    url = f"/call-scripts/{script.pk}/steps/{steps[0].pk}"
    v = script.version
    cases = [
        (
            {
                "text": "x",
                "kind": "choice",
                "options": [{"label": "a", "next_step_id": foreign.pk}],
            },
            ["body", "options", 0, "next_step_id"],
        ),
        (
            {
                "text": "x",
                "kind": "choice",
                "options": [
                    {"id": foreign.options.first().pk, "label": "a", "next_step_id": steps[1].pk}
                ],
            },
            ["body", "options", 0, "id"],
        ),
        ({"text": "x", "kind": "number", "next_step_id": foreign.pk}, ["body", "next_step_id"]),
        ({"text": "x", "kind": "sideways"}, ["body", "kind"]),
        ({"text": "x" * 5000, "kind": "text"}, ["body", "text"]),
        ({"text": "x", "kind": "final", "disposition_id": 999999}, ["body", "disposition_id"]),
        ({"text": "x", "kind": "final", "script_id": other.pk}, ["body", "script_id"]),
    ]
    for body, where in cases:
        answer = api.send("put", url, {**body, "version": v}, {})
        assert answer.status_code == 422 and loc(answer) == where, (body, answer.json())
    wrong_script = api.send(
        "put",
        f"/call-scripts/{other.pk}/steps/{steps[0].pk}",
        {"text": "x", "kind": "final", "version": other.version},
        {},
    )
    assert wrong_script.status_code == 404
    assert Script.objects.get(pk=script.pk).version == v


def test_operators_read_scripts_but_cannot_write(olga, script):
    api = Api(olga.user)
    assert api.get("/call-scripts").status_code == 200
    assert api.post("/call-scripts", {"name": "Mine"}).status_code == 403
    assert (
        api.patch(
            f"/call-scripts/{script.pk}", {"name": "Mine", "version": script.version}
        ).status_code
        == 403
    )
    assert api.delete(f"/call-scripts/{script.pk}").status_code == 403
    assert Script.objects.count() == 1 and Script.objects.get().name == "Sales"


# --- the run on a call -------------------------------------------------------------------------


def test_the_operator_walks_a_call_through_the_api(olga, script, call):
    api = Api(olga.user)
    read = api.get(f"/calls/{call.pk}/script").json()
    assert read["step"]["text"] == "Hello Ivan! Is it a good time?" and read["path"] == []
    option = read["step"]["options"][0]["id"]
    answered = api.post(
        f"/calls/{call.pk}/script", {"step_id": read["step"]["id"], "option_id": option}
    )
    assert answered.status_code == 200 and answered.json()["step"]["kind"] == "number"
    number = api.post(
        f"/calls/{call.pk}/script", {"step_id": answered.json()["step"]["id"], "value": 7}
    )
    assert number.json()["path"][-1]["value"] == "7"
    back = api.post(f"/calls/{call.pk}/script/back")
    assert back.json()["step"]["kind"] == "number" and len(back.json()["path"]) == 1


def test_no_script_applies(olga, call):
    read = Api(olga.user).get(f"/calls/{call.pk}/script")
    assert read.status_code == 200 and read.json()["script_id"] is None


def test_hostile_answers(olga, oleg, helen, script, call):
    other_call = make_call(oleg)
    api = Api(olga.user)
    first = services.live_steps(script)[0]
    foreign = services.live_steps(build(helen, name="Zeta"))[0].options.first()
    url = f"/calls/{call.pk}/script"
    assert (
        api.post(
            f"/calls/{other_call.pk}/script",
            {"step_id": first.pk, "option_id": first.options.first().pk},
        ).status_code
        == 404
    )
    assert api.get(f"/calls/{other_call.pk}/script").status_code == 404
    wrong = api.post(url, {"step_id": first.pk, "option_id": foreign.pk})
    assert wrong.status_code == 422 and loc(wrong) == ["body", "option_id"]
    extra = api.post(url, {"step_id": first.pk, "option_id": first.options.first().pk, "run_id": 1})
    assert extra.status_code == 422 and loc(extra) == ["body", "run_id"]
    assert (
        api.post(url, {"step_id": first.pk, "option_id": first.options.first().pk}).status_code
        == 200
    )
    number_step = services.live_steps(script)[1].pk
    for value in ("ten", "1e9", "<script>"):
        bad = api.post(url, {"step_id": number_step, "value": value})
        assert bad.status_code == 422 and loc(bad) == ["body", "value"], value
    huge = api.post(url, {"step_id": number_step, "value": "9" * 5000})
    assert huge.status_code == 422 and loc(huge) == ["body", "value"]
    stale = api.post(url, {"step_id": first.pk, "option_id": first.options.first().pk})
    assert stale.status_code == 422 and loc(stale) == ["body", "step_id"]
    nul = api.post(url, {"step_id": number_step, "value": "1\x00"})
    assert nul.status_code == 422
    assert Answer.objects.count() == 1 and Run.objects.count() == 1


def test_another_operator_cannot_answer_or_undo(olga, oleg, script, call):
    first = services.live_steps(script)[0]
    api = Api(oleg.user)
    body = {"step_id": first.pk, "option_id": first.options.first().pk}
    assert api.post(f"/calls/{call.pk}/script", body).status_code == 404
    assert api.post(f"/calls/{call.pk}/script/back").status_code == 404
    assert not Run.objects.exists() and Step.objects.count() == 4
