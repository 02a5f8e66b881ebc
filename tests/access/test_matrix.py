"""Every client operation, in the browser and the API, × every shipped role × whose record it is.

The expected answer comes from the shipped role matrix (accounts/roles.py): a record the role may
not see answers 404 (never 403, so existence does not leak); one it may see but not change, 404 as
well; and every refused request leaves the database as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client as Browser
from django.urls import reverse

from kartoteka.accounts.models import Role, Team, User
from kartoteka.accounts.roles import DEFAULTS
from kartoteka.accounts.services import create_token
from kartoteka.activities.models import Interaction
from kartoteka.clients import services
from kartoteka.clients.models import Client, Consent
from kartoteka.clients.services import EmailIn, PhoneIn

ROLES = list(DEFAULTS)
RELATIONS = {"own": 1, "colleague": 2, "other": 3}  # the scope each relation needs
CASES: list[str] = []


def allowed(role: str, kind: str, action: str, relation: str) -> bool:
    return DEFAULTS[role]["grants"][kind][action] >= RELATIONS[relation]


@dataclass
class World:
    me: User
    records: dict[str, Client]
    browser: Browser
    api: Browser


@pytest.fixture(params=ROLES)
def world(request: pytest.FixtureRequest, db: Any) -> World:
    role = request.param
    sales, retail = Team.objects.create(name="Sales"), Team.objects.create(name="Retail")
    me = User.objects.create_user(
        f"the-{role}", password="correct-horse-battery", role=Role.objects.get(code=role)
    )
    mate = User.objects.create_user("mate", role=Role.objects.get(code="manager"))
    stranger = User.objects.create_user("stranger", role=Role.objects.get(code="manager"))
    sales.members.add(me, mate)
    retail.members.add(stranger)
    owners = {"own": me, "colleague": mate, "other": stranger}
    records = {
        relation: services.create_client(
            None,
            "person",
            {"last_name": f"Клиент-{relation}", "owner": owner},
            phones=[PhoneIn(f"+7916000000{i}")],
        )
        for i, (relation, owner) in enumerate(owners.items())
    }
    browser = Browser()
    browser.force_login(me)
    _token, key = create_token(me)
    api = Browser(headers={"Authorization": f"Bearer {key}"})
    return World(me, records, browser, api)


def snapshot() -> Any:
    clients = list(
        Client.all_objects.order_by("pk").values(
            "pk", "version", "deleted_at", "owner_id", "middle_name"
        )
    )
    return clients, Interaction.objects.count(), Consent.objects.count()


def edit_form(client: Client) -> dict[str, Any]:
    return {
        "last_name": client.last_name,
        "first_name": "",
        "middle_name": "Изменено",
        "stage": client.stage,
        "source": "",
        "owner": client.owner_id,
        "tags": "",
        "address": "",
        "description": "",
        "external_system": "",
        "external_id": "",
        "birthday": "",
        "passport": "",
        "income": "",
        "version": client.version,
        "phone-TOTAL_FORMS": "0",
        "phone-INITIAL_FORMS": "0",
        "email-TOTAL_FORMS": "0",
        "email-INITIAL_FORMS": "0",
    }


def api_json(method: str) -> Callable[..., Any]:
    def call(world: World, path: str, body: Any = None, **headers: str) -> Any:
        send = getattr(world.api, method)
        if body is None:
            return send("/api/v1" + path, headers=headers)
        return send(
            "/api/v1" + path, json.dumps(body), content_type="application/json", headers=headers
        )

    return call


# name -> (kind, action, call(world, client) -> response, status when allowed)
OPERATIONS: dict[str, tuple[str, str, Callable[[World, Client], Any], int]] = {
    "page: card": (
        "client",
        "view",
        lambda w, c: w.browser.get(reverse("clients:card", args=[c.pk])),
        200,
    ),
    "page: timeline": (
        "client",
        "view",
        lambda w, c: w.browser.get(reverse("clients:timeline", args=[c.pk])),
        200,
    ),
    "page: edit form": (
        "client",
        "edit",
        lambda w, c: w.browser.get(reverse("clients:edit", args=[c.pk])),
        200,
    ),
    "page: save edit": (
        "client",
        "edit",
        lambda w, c: w.browser.post(reverse("clients:edit", args=[c.pk]), edit_form(c)),
        302,
    ),
    "page: record consent": (
        "client",
        "edit",
        lambda w, c: w.browser.post(
            reverse("clients:consent_add", args=[c.pk]),
            {"consent-channel": "sms", "consent-purpose": "service", "consent-granted": "yes"},
        ),
        302,
    ),
    "page: delete": (
        "client",
        "delete",
        lambda w, c: w.browser.post(reverse("clients:delete", args=[c.pk])),
        302,
    ),
    "api: read": ("client", "view", lambda w, c: api_json("get")(w, f"/persons/{c.pk}"), 200),
    "api: timeline": (
        "client",
        "view",
        lambda w, c: api_json("get")(w, f"/persons/{c.pk}/timeline"),
        200,
    ),
    "api: jobs": ("client", "view", lambda w, c: api_json("get")(w, f"/persons/{c.pk}/jobs"), 200),
    "api: update": (
        "client",
        "edit",
        lambda w, c: api_json("patch")(
            w, f"/persons/{c.pk}", {"middle_name": "X", "version": c.version}
        ),
        200,
    ),
    "api: delete": (
        "client",
        "delete",
        lambda w, c: api_json("delete")(w, f"/persons/{c.pk}"),
        204,
    ),
}
TRASHED: dict[str, tuple[str, str, Callable[[World, Client], Any], int]] = {
    "page: restore": (
        "client",
        "restore",
        lambda w, c: w.browser.post(reverse("clients:restore", args=[c.pk])),
        302,
    ),
    "api: restore": (
        "client",
        "restore",
        lambda w, c: api_json("post")(w, f"/persons/{c.pk}/restore", {}),
        200,
    ),
}


@pytest.mark.parametrize("relation", list(RELATIONS))
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_operation(world: World, operation: str, relation: str) -> None:
    kind, action, call, ok_status = OPERATIONS[operation]
    target = world.records[relation]
    role = world.me.role.code
    expected_ok = allowed(role, kind, action, relation) and allowed(role, kind, "view", relation)
    before = snapshot()
    response = call(world, target)
    if expected_ok:
        assert response.status_code == ok_status, (
            role,
            operation,
            relation,
            response.content[:300],
        )
    else:
        assert response.status_code == 404, (role, operation, relation, response.status_code)
        assert snapshot() == before, (role, operation, relation, "changed after a refusal")


@pytest.mark.parametrize("relation", list(RELATIONS))
@pytest.mark.parametrize("operation", list(TRASHED))
def test_trashed_operation(world: World, operation: str, relation: str) -> None:
    kind, action, call, ok_status = TRASHED[operation]
    target = world.records[relation]
    services.trash_client(None, target)
    role = world.me.role.code
    before = snapshot()
    response = call(world, target)
    if allowed(role, kind, action, relation):
        assert response.status_code == ok_status, (role, operation, relation)
    else:
        assert response.status_code == 404, (role, operation, relation, response.status_code)
        assert snapshot() == before


@pytest.mark.parametrize("relation", list(RELATIONS))
def test_logging_an_interaction(world: World, relation: str) -> None:
    target = world.records[relation]
    role = world.me.role.code
    before = snapshot()
    response = world.browser.post(
        reverse("clients:log", args=[target.pk, "note"]), {"note-summary": "hello"}
    )
    api = api_json("post")(
        world, "/interactions", {"client_id": target.pk, "kind": "note", "summary": "hello"}
    )
    if not allowed(role, "client", "view", relation):
        assert response.status_code == 404 and api.status_code in (404, 422)
        assert snapshot() == before
    elif DEFAULTS[role]["grants"]["interaction"]["create"] == 0:
        assert response.status_code == 403 and api.status_code == 403
        assert snapshot() == before
    else:
        assert response.status_code == 200 and api.status_code == 201, (
            role,
            relation,
            api.content[:200],
        )


def test_lists_search_and_counts_show_only_visible_records(world: World) -> None:
    role = world.me.role.code
    expected = {
        r.last_name for rel, r in world.records.items() if allowed(role, "client", "view", rel)
    }
    page = world.browser.get(reverse("clients:list"))
    assert {row.last_name for row in page.context["rows"]} == expected
    api = api_json("get")(world, "/persons").json()
    assert {item["last_name"] for item in api["items"]} == expected
    for relation, record in world.records.items():
        found = world.browser.get(reverse("clients:list"), {"q": record.last_name})
        assert [row.last_name for row in found.context["rows"]] == (
            [record.last_name] if record.last_name in expected else []
        )
        by_phone = api_json("get")(
            world, f"/persons?q=8 916 000-000-{list(RELATIONS).index(relation)}"
        )
        names = {i["last_name"] for i in by_phone.json()["items"]}
        assert names <= expected, (role, relation, names)


def test_hidden_fields_never_reach_the_viewer(world: World) -> None:
    role = world.me.role.code
    hides_contacts = DEFAULTS[role]["fields"].get("contacts") == "hidden"
    record = world.records["own"]
    if not allowed(role, "client", "view", "own"):
        pytest.skip("the role sees no records")
    card = world.browser.get(reverse("clients:card", args=[record.pk]))
    api = api_json("get")(world, f"/persons/{record.pk}").json()
    assert ("+7 916 000-00-00" in card.text) == (not hides_contacts)
    assert bool(api["phones"]) == (not hides_contacts)
    found = api_json("get")(world, "/persons", None)
    assert all(bool(i["phones"]) == (not hides_contacts) for i in found.json()["items"])


def test_search_does_not_reveal_hidden_contacts(db: Any) -> None:
    """An analyst may not find a client by a fragment of an e-mail it cannot see."""
    analyst = User.objects.create_user("ann", role=Role.objects.get(code="analyst"))
    services.create_client(
        None, "person", {"last_name": "Тайный"}, emails=[EmailIn("john@secretcorp.example")]
    )
    browser = Browser()
    browser.force_login(analyst)
    assert list(browser.get(reverse("clients:list"), {"q": "secretcorp"}).context["rows"]) == []
    assert [
        r.last_name for r in browser.get(reverse("clients:list"), {"q": "тайн"}).context["rows"]
    ] == ["Тайный"]


def test_filters_and_sorts_on_hidden_fields_are_no_oracle(db: Any) -> None:
    """Filtering or sorting by a field the role may not see changes nothing the viewer gets."""
    from kartoteka.clients.models import CustomField

    CustomField.objects.create(key="salary", label="Зарплата", type="number", sensitive=True)
    analyst = User.objects.create_user("ann", role=Role.objects.get(code="analyst"))
    for i, salary in enumerate((100, 900)):
        services.create_client(
            None, "person", {"last_name": f"Клиент{i}"}, custom={"salary": salary}
        )
    browser = Browser()
    browser.force_login(analyst)
    everyone = browser.get(reverse("clients:list")).context["rows"]
    filtered = browser.get(reverse("clients:list"), {"cf_salary": "900"}).context["rows"]
    assert [r.pk for r in filtered] == [r.pk for r in everyone]
    refused = browser.get(reverse("clients:list"), {"sort": "-custom.salary"})
    assert "Cannot sort by" in refused.text and list(refused.context["rows"]) == []
    page = browser.get(reverse("clients:list"), {"col": ["name", "custom.salary"]})
    assert "Зарплата" not in page.text
