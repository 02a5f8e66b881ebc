"""The PBX's step API (signed) and /api/v1/ivr (supervisors only): hostile input refused, named."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartoteka.callcenter.models import Call, Queue
from kartoteka.ivr import services
from kartoteka.ivr.models import Menu, Node, Session
from tests.api import Api
from tests.callcenter.conftest import IVAN_PHONE, make_operator, signed
from tests.ivr.conftest import DID

pytestmark = pytest.mark.django_db


def start(client, body=None, **kw):
    body = body if body is not None else {"call_id": "w-1", "from": IVAN_PHONE, "to": DID}
    return client.post("/telephony/ivr/start/", **signed(body, **kw))


def step(client, token, body, at=None):
    """One press with the session's current step (or `at`), as a genuine PBX sends it."""
    current = Session.objects.filter(token=token).values_list("steps", flat=True).first()
    body = {"session": token, "step": current if at is None else at, **body}
    return client.post(f"/telephony/ivr/{token}/", **signed(body))


def test_a_cloud_pbx_walks_the_menu(client, menu, deal, ivan):
    first = start(client)
    assert first.status_code == 200
    answer = first.json()
    assert answer["then"] == {"type": "collect", "min_digits": 1, "max_digits": 1, "timeout_s": 5}
    assert answer["say"][0]["text"] == "Press 1 for billing, 2 for sales"
    token = answer["session"]
    assert answer["step"] == 1
    assert step(client, token, {"digits": "1"}).json()["step"] == 2
    step(client, token, {"digits": "1"})
    said = step(client, token, {"digits": f"{deal.pk}#"}).json()
    assert said["values"] == {"deal": str(deal.pk)}
    assert "20.12.2026" in said["say"][0]["text"]
    timeout = step(client, token, {"timeout": True}).json()
    assert timeout["say"][0]["text"] == "Sorry, that is not a valid choice."
    step(client, token, {"digits": "*"})
    routed = step(client, token, {"digits": "2"}).json()
    assert routed["then"] == {"type": "route", "queue": "sales"}
    assert step(client, token, {"digits": "1"}).status_code == 409
    call = Call.objects.get(provider="webhook", call_id="w-1")
    assert call.ivr["deal"] == str(deal.pk) and call.ivr["queue"] == "sales"
    assert call.client_id == ivan.pk


def test_a_bad_signature_changes_nothing(client, menu):
    response = start(client, secret="wrong-secret")
    assert response.status_code == 401
    unsigned = client.post("/telephony/ivr/start/", data=b"{}", content_type="application/json")
    assert unsigned.status_code == 401
    old = start(client, stamp=1_000_000)
    assert old.status_code == 401
    assert not Session.objects.exists() and not Call.objects.exists()


def test_a_replayed_press_is_409_and_changes_nothing(client, menu):
    token = start(client).json()["session"]
    raw = signed({"session": token, "step": 1, "digits": "1"})
    assert client.post(f"/telephony/ivr/{token}/", **raw).status_code == 200
    before = Session.objects.get(token=token)
    replay = client.post(f"/telephony/ivr/{token}/", **raw)
    assert replay.status_code == 409
    assert replay.json()["detail"][0]["loc"] == ["body", "step"]
    assert replay.json()["step"] == 2
    after = Session.objects.get(token=token)
    assert (after.state, after.steps) == (before.state, before.steps)
    # A genuine second "1" differs by its step and is taken.
    assert step(client, token, {"digits": "1"}).json()["step"] == 3


@pytest.mark.parametrize("at", [None, 0, 2, 99])
def test_a_missing_or_wrong_step_is_409(client, menu, at):
    token = start(client).json()["session"]
    body = {"session": token, "digits": "1"} | ({} if at is None else {"step": at})
    response = client.post(f"/telephony/ivr/{token}/", **signed(body))
    assert response.status_code in ((409,) if at != 0 else (422,))
    assert response.json()["detail"][0]["loc"] == ["body", "step"]
    assert Session.objects.get(token=token).steps == 1


def test_a_body_signed_for_another_session_is_refused(client, menu):
    mine = start(client).json()["session"]
    other = start(client, {"call_id": "w-2", "from": IVAN_PHONE, "to": DID}).json()["session"]
    raw = signed({"session": mine, "step": 1, "digits": "1"})
    response = client.post(f"/telephony/ivr/{other}/", **raw)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "session"]
    assert Session.objects.get(token=other).steps == 1


def test_an_unknown_session_is_404(client, menu):
    assert step(client, "no-such-session", {"digits": "1"}).status_code == 404
    long = step(client, "x" * 500, {"digits": "1"}, at=1)
    assert long.status_code == 422 and long.json()["detail"][0]["loc"] == ["body", "session"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"digits": "²"}, "digits"),
        ({"digits": "1" * 33}, "digits"),
        ({"digits": "1' OR '1'='1"}, "digits"),
        ({"digits": "1", "timeout": True}, None),
        ({}, None),
        ({"digits": "1", "node": 5}, "node"),
    ],
)
def test_hostile_digits_are_refused_by_name(client, menu, body, field):
    token = start(client).json()["session"]
    before = Session.objects.get(token=token).state
    response = step(client, token, body)
    assert response.status_code == 422
    if field:
        assert response.json()["detail"][0]["loc"] == ["body", field]
    assert Session.objects.get(token=token).state == before


def test_start_refuses_bad_bodies(client, menu):
    assert start(client, {"call_id": "", "from": "1", "to": DID}).status_code == 422
    assert start(client, {"call_id": "a b", "to": DID}).status_code == 422
    assert start(client, [1, 2]).status_code == 422
    assert client.post("/telephony/ivr/start/", **signed(b"{not json")).status_code == 400
    assert start(client, {"call_id": "x", "to": "+70000000000"}).status_code == 404
    assert not Call.objects.exists()


# --- /api/v1/ivr ------------------------------------------------------------------------------


def test_an_operator_gets_403_and_nothing_changes(menu, sales):
    olga = make_operator("olga", "101", sales)
    api = Api(olga.user)
    root = Node.objects.get(menu=menu, parent=None)
    assert api.get("/ivr/menus").status_code == 403
    assert api.get(f"/ivr/menus/{menu.pk}").status_code == 403
    body = {
        "parent_id": root.pk,
        "kind": "hangup",
        "title": "x",
        "digit": "7",
        "version": menu.version,
    }
    assert api.post(f"/ivr/menus/{menu.pk}/nodes", body).status_code == 403
    assert api.post("/ivr/menus", {"name": "Mine"}).status_code == 403
    assert api.delete(f"/ivr/menus/{menu.pk}?version={menu.version}").status_code == 403
    assert Node.objects.filter(menu=menu).count() == 6 and Menu.objects.count() == 1


def test_a_head_builds_a_menu(helen, queue):
    api = Api(helen)
    created = api.post("/ivr/menus", {"name": "Support", "number": "100"})
    assert created.status_code == 201, created.json()
    menu = created.json()
    root = menu["nodes"][0]
    added = api.post(
        f"/ivr/menus/{menu['id']}/nodes",
        {
            "parent_id": root["id"],
            "kind": "route",
            "digit": "1",
            "title": "Ops",
            "queue_id": queue.pk,
        },
        **{"If-Match": f'"{menu["version"]}"'},
    )
    assert added.status_code == 201, added.json()
    tree = api.get(f"/ivr/menus/{menu['id']}")
    assert [n["title"] for n in tree.json()["nodes"]][1] == "Ops"
    walked = api.post(f"/ivr/menus/{menu['id']}/walk", {"inputs": ["1"]}).json()
    assert walked["steps"][-1]["then"] == {"type": "route", "queue": "sales"}
    assert walked["path"] == "Ops"


def test_node_errors_name_the_field(admin, menu, queue):
    api = Api(admin)
    root = Node.objects.get(menu=menu, parent=None)
    billing = Node.objects.get(menu=menu, title="Billing")
    base = {"parent_id": root.pk, "title": "X", "version": menu.version}
    cases = [
        ({**base, "kind": "hangup", "digit": "1"}, "digit"),  # billing has 1
        ({**base, "kind": "route", "digit": "5"}, "queue_id"),
        ({**base, "kind": "input", "digit": "5"}, "validation"),
        ({**base, "kind": "answer", "digit": "5"}, "answer"),
        ({**base, "kind": "hangup"}, "digit"),
        ({**base, "kind": "hangup", "digit": "²"}, "digit"),
        ({**base, "kind": "hangup", "digit": "5", "sound": "../../etc/passwd"}, "sound"),
        (
            {
                **base,
                "kind": "input",
                "digit": "5",
                "validation": "deal",
                "min_digits": 5,
                "max_digits": 2,
            },
            "max_digits",
        ),
        ({**base, "kind": "hangup", "digit": "5", "queue_id": 999999}, "queue_id"),
        ({**base, "kind": "hangup", "digit": "5", "owner": 1}, "owner"),
    ]
    for body, field in cases:
        response = api.post(f"/ivr/menus/{menu.pk}/nodes", body)
        assert response.status_code == 422, (body, response.json())
        assert response.json()["detail"][0]["loc"] == ["body", field], (body, response.json())
    assert Node.objects.filter(menu=menu).count() == 6
    menu.refresh_from_db()
    assert menu.version == base["version"]
    assert billing.children.count() == 2


def test_other_menus_node_ids_are_refused(admin, menu):
    api = Api(admin)
    other = services.save_menu(admin, None, {"name": "Other"})
    other_root = Node.objects.get(menu=other, parent=None)
    root = Node.objects.get(menu=menu, parent=None)
    body = {
        "parent_id": other_root.pk,
        "kind": "hangup",
        "title": "x",
        "digit": "3",
        "version": menu.version,
    }
    response = api.post(f"/ivr/menus/{menu.pk}/nodes", body)
    assert response.json()["detail"][0]["loc"] == ["body", "parent_id"]
    assert (
        api.patch(
            f"/ivr/menus/{other.pk}/nodes/{root.pk}", {"title": "x", "version": other.version}
        ).status_code
        == 404
    )
    sales_node = Node.objects.get(menu=menu, title="Sales")
    moved = api.patch(
        f"/ivr/menus/{menu.pk}/nodes/{sales_node.pk}",
        {"parent_id": other_root.pk, "version": menu.version},
    )
    assert moved.status_code == 422
    assert Node.objects.get(pk=sales_node.pk).parent_id == root.pk


def test_tree_rules_and_versions(admin, menu):
    api = Api(admin)
    billing = Node.objects.get(menu=menu, title="Billing")
    number = Node.objects.get(menu=menu, title="Deal number")
    v = menu.version
    under_itself = api.patch(
        f"/ivr/menus/{menu.pk}/nodes/{billing.pk}", {"parent_id": number.pk, "version": v}
    )
    assert under_itself.json()["detail"][0]["loc"] == ["body", "parent_id"]
    stale = api.patch(f"/ivr/menus/{menu.pk}/nodes/{billing.pk}", {"title": "B", "version": v - 1})
    assert stale.status_code == 412
    assert api.patch(f"/ivr/menus/{menu.pk}/nodes/{billing.pk}", {"title": "B"}).status_code == 428
    ok = api.patch(f"/ivr/menus/{menu.pk}/nodes/{billing.pk}", {"title": "Payments", "version": v})
    assert ok.status_code == 200 and ok.headers["ETag"] == f'"{v + 1}"'
    refused = api.delete(f"/ivr/menus/{menu.pk}/nodes/{billing.pk}?version={v + 1}")
    assert refused.status_code == 422 and "below it" in json.dumps(refused.json())
    assert Node.objects.filter(pk=billing.pk).exists()
    gone = api.delete(f"/ivr/menus/{menu.pk}/nodes/{billing.pk}?version={v + 1}&with_children=true")
    assert gone.status_code == 204
    assert Node.objects.filter(menu=menu).count() == 2
    root = Node.objects.get(menu=menu, parent=None)
    assert api.delete(f"/ivr/menus/{menu.pk}/nodes/{root.pk}?version={v + 2}").status_code == 422


def test_too_deep_is_refused(admin):
    menu = services.save_menu(admin, None, {"name": "Deep"})
    parent = Node.objects.get(menu=menu, parent=None)
    api = Api(admin)
    for level in range(6):
        menu.refresh_from_db()
        made = api.post(
            f"/ivr/menus/{menu.pk}/nodes",
            {
                "parent_id": parent.pk,
                "kind": "menu",
                "digit": "1",
                "title": f"L{level}",
                "version": menu.version,
            },
        )
        assert made.status_code == 201, made.json()
        parent = Node.objects.get(pk=made.json()["id"])
    menu.refresh_from_db()
    deeper = api.post(
        f"/ivr/menus/{menu.pk}/nodes",
        {
            "parent_id": parent.pk,
            "kind": "hangup",
            "digit": "1",
            "title": "L7",
            "version": menu.version,
        },
    )
    assert deeper.status_code == 422 and deeper.json()["detail"][0]["loc"] == ["body", "parent_id"]


def test_menu_numbers_are_unique_among_active_menus(admin, menu):
    api = Api(admin)
    clash = api.post("/ivr/menus", {"name": "Two", "number": "+7 495 000 00 00"})
    assert clash.status_code == 422 and clash.json()["detail"][0]["loc"] == ["body", "number"]
    bad = api.post("/ivr/menus", {"name": "Three", "number": "abc"})
    assert bad.json()["detail"][0]["loc"] == ["body", "number"]
    assert api.post("/ivr/menus", {"name": "Hotline"}).json()["detail"][0]["loc"] == [
        "body",
        "name",
    ]
    assert Menu.objects.count() == 1
    assert Queue.objects.count() == 1


NODE_KEYS = [
    "parent_id",
    "digit",
    "kind",
    "title",
    "prompt",
    "sound",
    "key",
    "validation",
    "answer",
    "queue_id",
    "min_digits",
    "max_digits",
    "retries",
    "timeout_s",
    "version",
    "menu_id",
    "position",
]
GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=40),
    st.sampled_from(["²", "1' OR 1=1--", "../x", "menu", "route", "deal", "\x00", "9" * 40]),
    st.lists(st.integers(), max_size=2),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.dictionaries(st.sampled_from(NODE_KEYS), GARBAGE, max_size=6))
def test_garbage_node_bodies_never_500_nor_half_write(admin, menu, body):
    api = Api(admin)
    node = Node.objects.filter(menu=menu, title="Billing").first()
    before = list(Node.objects.filter(menu=menu).order_by("pk").values())
    for response in (
        api.post(f"/ivr/menus/{menu.pk}/nodes", body),
        api.patch(f"/ivr/menus/{menu.pk}/nodes/{node.pk}", body),
    ):
        assert response.status_code < 500, (body, response.content)
        if response.status_code >= 400:
            assert list(Node.objects.filter(menu=menu).order_by("pk").values()) == before
        before = list(Node.objects.filter(menu=menu).order_by("pk").values())
