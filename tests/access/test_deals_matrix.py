"""Every deal operation of the API × every shipped role × whose deal it is.

As in test_matrix.py, the expected answer comes from the shipped role matrix
(accounts/roles.py): a deal the role may not see answers 404 (never 403, so existence does not
leak); one it may see but not change, 404 as well; creating without the right, 403; a client the
role may not see, 422 on client_id. Every refused request leaves the database as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client as Browser

from kartoteka.accounts.models import Role, Team, User
from kartoteka.accounts.roles import DEFAULTS
from kartoteka.accounts.services import create_token
from kartoteka.clients.models import Client
from kartoteka.sales import services
from kartoteka.sales.models import Deal
from tests.sales import NEEDS, person, snapshot, stage

ROLES = list(DEFAULTS)
RELATIONS = {"own": 1, "colleague": 2, "other": 3}  # the scope each relation needs


def allowed(role: str, kind: str, action: str, relation: str) -> bool:
    return DEFAULTS[role]["grants"][kind][action] >= RELATIONS[relation]


@dataclass
class World:
    me: User
    clients: dict[str, Client]
    deals: dict[str, Deal]
    api: Browser

    @property
    def role(self) -> str:
        return self.me.role.code

    def call(self, method: str, path: str, body: Any = None) -> Any:
        send = getattr(self.api, method)
        if body is None:
            return send("/api/v1" + path)
        return send("/api/v1" + path, json.dumps(body), content_type="application/json")


@pytest.fixture(params=ROLES)
def world(request: pytest.FixtureRequest, db: Any) -> World:
    role = request.param
    sales, retail = Team.objects.create(name="Sales"), Team.objects.create(name="Retail")
    me = User.objects.create_user(f"the-{role}", role=Role.objects.get(code=role))
    mate = User.objects.create_user("mate", role=Role.objects.get(code="manager"))
    stranger = User.objects.create_user("stranger", role=Role.objects.get(code="manager"))
    sales.members.add(me, mate)
    retail.members.add(stranger)
    owners = {"own": me, "colleague": mate, "other": stranger}
    clients = {rel: person(owner, f"Клиент-{rel}") for rel, owner in owners.items()}
    deals = {
        rel: services.create_deal(
            None, {"title": f"Сделка-{rel}", "client": clients[rel], "owner": owner}
        )
        for rel, owner in owners.items()
    }
    _token, key = create_token(me)
    return World(me, clients, deals, Browser(headers={"Authorization": f"Bearer {key}"}))


# name -> (action, call(world, deal) -> response, status when allowed)
OPERATIONS: dict[str, tuple[str, Callable[[World, Deal], Any], int]] = {
    "read": ("view", lambda w, d: w.call("get", f"/deals/{d.pk}"), 200),
    "patch": (
        "edit",
        lambda w, d: w.call("patch", f"/deals/{d.pk}", {"version": 1, "next_step": "Звонок"}),
        200,
    ),
    "move": (
        "edit",
        lambda w, d: w.call(
            "post", f"/deals/{d.pk}/move", {"stage_id": stage(NEEDS).pk, "version": 1, "amount": 5}
        ),
        200,
    ),
    "delete": ("delete", lambda w, d: w.call("delete", f"/deals/{d.pk}"), 204),
}


@pytest.mark.parametrize("relation", list(RELATIONS))
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_operation(world: World, operation: str, relation: str) -> None:
    action, call, ok_status = OPERATIONS[operation]
    role = world.role
    expected_ok = allowed(role, "deal", action, relation) and allowed(
        role, "deal", "view", relation
    )
    before = snapshot()
    response = call(world, world.deals[relation])
    if expected_ok:
        assert response.status_code == ok_status, (role, operation, relation, response.content)
    else:
        assert response.status_code == 404, (role, operation, relation, response.status_code)
        assert snapshot() == before, (role, operation, relation, "changed after a refusal")


@pytest.mark.parametrize("relation", list(RELATIONS))
def test_restore(world: World, relation: str) -> None:
    target = world.deals[relation]
    services.trash_deal(None, target)
    role = world.role
    before = snapshot()
    response = world.call("post", f"/deals/{target.pk}/restore")
    if allowed(role, "deal", "restore", relation) and allowed(role, "deal", "view", relation):
        assert response.status_code == 200, (role, relation, response.content)
        assert Deal.objects.filter(pk=target.pk).exists()
    else:
        assert response.status_code == 404, (role, relation, response.status_code)
        assert snapshot() == before


@pytest.mark.parametrize("relation", list(RELATIONS))
def test_create_for_a_client(world: World, relation: str) -> None:
    """`relation` is whose client the new deal is for; the deal itself is the creator's."""
    role = world.role
    before = snapshot()
    body = {"title": "Новая", "client_id": world.clients[relation].pk}
    response = world.call("post", "/deals", body)
    if DEFAULTS[role]["grants"]["deal"]["create"] == 0:
        assert response.status_code == 403, (role, relation, response.status_code)
    elif not allowed(role, "client", "view", relation):
        assert response.status_code == 422, (role, relation, response.status_code)
        assert [e["loc"] for e in response.json()["detail"]] == [["body", "client_id"]]
    else:
        assert response.status_code == 201, (role, relation, response.content)
        assert response.json()["owner"]["id"] == world.me.pk
        return
    assert snapshot() == before


def test_list_shows_only_visible_deals(world: World) -> None:
    role = world.role
    expected = {d.pk for rel, d in world.deals.items() if allowed(role, "deal", "view", rel)}
    response = world.call("get", "/deals")
    assert response.status_code == 200
    assert {i["id"] for i in response.json()["items"]} == expected
    for relation, target in world.deals.items():
        by_client = world.call("get", f"/deals?client_id={target.client_id}")
        by_title = world.call("get", f"/deals?q=сделка-{relation}")
        wanted = [target.pk] if target.pk in expected else []
        assert [i["id"] for i in by_client.json()["items"]] == wanted, (role, relation)
        assert [i["id"] for i in by_title.json()["items"]] == wanted, (role, relation)


def test_reassigning_follows_the_matrix(world: World) -> None:
    """Giving one's own deal to the colleague: only roles that may reassign deals."""
    role = world.role
    target, mate = world.deals["own"], world.deals["colleague"].owner
    assert mate is not None
    before = snapshot()
    response = world.call("patch", f"/deals/{target.pk}", {"version": 1, "owner_id": mate.pk})
    if not allowed(role, "deal", "edit", "own"):
        assert response.status_code == 404
    elif allowed(role, "deal", "reassign", "own"):
        assert response.status_code == 200 and response.json()["owner"]["id"] == mate.pk
        return
    else:
        assert response.status_code == 422, (role, response.content)
    assert snapshot() == before
