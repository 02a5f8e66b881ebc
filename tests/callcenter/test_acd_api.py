"""/api/v1/acd and /api/v1/calls/route: supervisors only, hostile input named, stale cells 412."""

from __future__ import annotations

import pytest

from kartoteka.callcenter.acd_models import OperatorSkill, QueueSkill, Skill
from kartoteka.callcenter.models import Queue
from tests.api import Api
from tests.callcenter.acd_cast import give, idle, skilled_queue
from tests.callcenter.conftest import IVAN_PHONE, signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def english_skill(olga, oleg) -> Skill:
    return Skill.objects.create(name="English")


def cell(op, skill, level, version=0) -> dict:
    return {"operator_id": op.pk, "skill_id": skill.pk, "level": level, "version": version}


def test_operators_and_managers_get_403_and_change_nothing(olga, alice, helen, english_skill):
    for user in (olga.user, alice, helen):
        api = Api(user)
        assert api.get("/acd/matrix").status_code == 403
        assert api.post("/acd/skills", {"name": "X"}).status_code == 403
        put = api.send("put", "/acd/matrix", {"cells": [cell(olga, english_skill, 5)]}, {})
        assert put.status_code == 403
    assert not OperatorSkill.objects.exists() and Skill.objects.count() == 1


def test_skills_crud(admin, english_skill):
    api = Api(admin)
    made = api.post("/acd/skills", {"name": " Mortgages "})
    assert made.status_code == 201 and made.json()["name"] == "Mortgages"
    again = api.post("/acd/skills", {"name": "english"})
    assert again.status_code == 422 and again.json()["detail"][0]["loc"] == ["body", "name"]
    pk = made.json()["id"]
    assert api.patch(f"/acd/skills/{pk}", {"name": "Loans"}).json()["name"] == "Loans"
    assert [s["name"] for s in api.get("/acd/skills").json()] == ["English", "Loans"]
    assert api.delete(f"/acd/skills/{pk}").status_code == 204
    assert api.delete("/acd/skills/999999").status_code == 404


def test_a_required_skill_cannot_be_removed(admin):
    _queue, english_skill = skilled_queue()
    response = Api(admin).delete(f"/acd/skills/{english_skill.pk}")
    assert response.status_code == 422 and "sales" in response.json()["detail"][0]["msg"]
    assert Skill.objects.filter(pk=english_skill.pk).exists()


def test_matrix_get_and_put(admin, olga, oleg, english_skill):
    api = Api(admin)
    put = api.send("put", "/acd/matrix", {"cells": [cell(olga, english_skill, 7)]}, {})
    assert put.status_code == 200
    cells = api.get("/acd/matrix").json()["cells"]
    assert cells == [cell(olga, english_skill, 7, 1)]
    cleared = api.send("put", "/acd/matrix", {"cells": [cell(olga, english_skill, None, 1)]}, {})
    assert cleared.status_code == 200 and cleared.json()["cells"] == []


@pytest.mark.parametrize("level", [0, 11, "²", 10**30, "7; DROP TABLE", 2.5, True])
def test_hostile_levels_are_named_and_change_nothing(admin, olga, oleg, english_skill, level):
    body = {"cells": [cell(oleg, english_skill, 4), cell(olga, english_skill, level)]}
    response = Api(admin).send("put", "/acd/matrix", body, {})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "cells", 1, "level"]
    assert not OperatorSkill.objects.exists()


def test_unknown_ids_and_extra_keys_are_named(admin, olga, english_skill):
    api = Api(admin)
    bad = {"operator_id": 999999, "skill_id": english_skill.pk, "level": 5, "version": 0}
    response = api.send("put", "/acd/matrix", {"cells": [bad]}, {})
    assert response.json()["detail"][0]["loc"] == ["body", "cells", 0, "operator_id"]
    sneaky = {**cell(olga, english_skill, 5), "is_superuser": True}
    response = api.send("put", "/acd/matrix", {"cells": [sneaky]}, {})
    assert response.status_code == 422 and not OperatorSkill.objects.exists()


def test_a_concurrent_edit_is_412_naming_the_cell(admin, olga, oleg, english_skill):
    give(olga, english_skill, 5)  # someone set it after we read the empty matrix
    body = {"cells": [cell(oleg, english_skill, 3), cell(olga, english_skill, 8)]}
    response = Api(admin).send("put", "/acd/matrix", body, {})
    assert response.status_code == 412
    assert response.json()["loc"] == ["body", "cells", 1]
    assert response.json()["current_level"] == 5
    assert list(OperatorSkill.objects.values_list("level", flat=True)) == [5]


def test_queue_routing_get_and_put(admin, english_skill):
    queue = Queue.objects.create(name="sales")
    other = Queue.objects.create(name="general")
    api = Api(admin)
    read = api.get(f"/acd/queues/{queue.pk}/routing").json()
    assert read["version"] == 0 and read["strategy"] == "longest_idle"
    body = {
        "strategy": "skill_level",
        "sticky_wait_s": 15,
        "escalate_after_s": 120,
        "required": [{"skill_id": english_skill.pk, "min_level": 6}],
        "overflow": [
            {"after_wait_s": 60, "queue_id": other.pk},
            {"after_wait_s": 30, "level_drop": 2},
        ],
        "version": 0,
    }
    saved = api.send("put", f"/acd/queues/{queue.pk}/routing", body, {}).json()
    assert saved["version"] == 1 and saved["required"] == [
        {"skill_id": english_skill.pk, "min_level": 6}
    ]
    assert [s["after_wait_s"] for s in saved["overflow"]] == [30, 60]
    stale = api.send("put", f"/acd/queues/{queue.pk}/routing", body, {})
    assert stale.status_code == 412


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"strategy": "random"}, ["body", "strategy"]),
        ({"required": [{"skill_id": 999999, "min_level": 5}]}, ["body", "required", 0, "skill_id"]),
        ({"required": [{"skill_id": 1, "min_level": 11}]}, ["body", "required", 0, "min_level"]),
        (
            {"overflow": [{"after_wait_s": 5, "queue_id": 999999}]},
            ["body", "overflow", 0, "queue_id"],
        ),
        ({"overflow": [{"after_wait_s": 5}]}, ["body", "overflow", 0]),
        (
            {"overflow": [{"after_wait_s": -1, "level_drop": 1}]},
            ["body", "overflow", 0, "after_wait_s"],
        ),
        ({"vip_tag_id": 999999}, ["body", "vip_tag_id"]),
    ],
)
def test_bad_queue_routing_is_named(admin, english_skill, change, loc):
    queue = Queue.objects.create(name="sales")
    body = {"strategy": "longest_idle", "version": 0, **change}
    response = Api(admin).send("put", f"/acd/queues/{queue.pk}/routing", body, {})
    assert response.status_code == 422, response.json()
    assert response.json()["detail"][0]["loc"] == loc
    assert not QueueSkill.objects.exists()


def test_overflow_to_itself_is_refused(admin):
    queue = Queue.objects.create(name="sales")
    body = {
        "strategy": "longest_idle",
        "version": 0,
        "overflow": [{"after_wait_s": 5, "queue_id": queue.pk}],
    }
    response = Api(admin).send("put", f"/acd/queues/{queue.pk}/routing", body, {})
    assert response.json()["detail"][0]["loc"] == ["body", "overflow", 0, "queue_id"]


# --- POST /calls/route ------------------------------------------------------------------------


@pytest.fixture
def routed(olga, oleg):
    _queue, english_skill = skilled_queue()
    give(olga, english_skill, 7)
    idle(olga, 5)
    idle(oleg, 50)


def test_route_signed_like_the_webhook(client, routed, olga, ivan):
    body = {"call_id": "c-1", "caller": IVAN_PHONE, "queue": "sales"}
    response = client.post("/api/v1/calls/route", **signed(body))
    assert response.status_code == 200
    assert response.json() == {
        "extension": "101",
        "operator_id": olga.pk,
        "priority": 0,
        "client_id": ivan.pk,
    }


def test_route_refuses_a_bad_signature_or_no_auth(client, routed):
    body = {"call_id": "c-1", "caller": IVAN_PHONE, "queue": "sales"}
    assert client.post("/api/v1/calls/route", **signed(body, secret="wrong")).status_code == 401
    assert (
        client.post("/api/v1/calls/route", body, content_type="application/json").status_code == 401
    )


def test_route_with_a_token(routed, admin, olga):
    body = {"caller": "+79990001122", "queue": "sales"}
    assert Api(admin).post("/calls/route", body).json()["extension"] == "101"
    assert Api(olga.user).post("/calls/route", body).status_code == 403


def test_route_names_an_unknown_queue(client, routed):
    body = {"caller": "+79990001122", "queue": "nope"}
    response = client.post("/api/v1/calls/route", **signed(body))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "queue"]


def test_queue_routing_of_another_or_no_queue(admin, olga, english_skill):
    queue = Queue.objects.create(name="sales")
    body = {"strategy": "round_robin", "version": 0}
    assert Api(admin).get("/acd/queues/999999/routing").status_code == 404
    assert Api(admin).send("put", "/acd/queues/999999/routing", body, {}).status_code == 404
    denied = Api(olga.user).send("put", f"/acd/queues/{queue.pk}/routing", body, {})
    assert denied.status_code == 403 and not queue.required_skills.exists()
    from kartoteka.callcenter.acd_models import QueueRouting

    assert not QueueRouting.objects.exists()
