"""Sales plans: who may set them (administrators; a head for their team and its members), the
page and /api/v1/plans; refused requests change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kartoteka.core.models import AuditEntry
from kartoteka.core.permissions import Denied
from kartoteka.sales import plans
from kartoteka.sales.models import SalesPlan
from tests.api import Api, locs

pytestmark = pytest.mark.django_db
MAY = dt.date(2026, 5, 1)


def rows() -> list[dict]:
    return list(SalesPlan.objects.order_by("pk").values())


# --- the service ------------------------------------------------------------------------------


def test_an_administrator_sets_and_replaces_a_plan(admin, alice):
    plan = plans.set_plan(admin, dt.date(2026, 5, 17), owner=alice, amount="1000.50", deals=3)
    assert (plan.month, plan.owner, plan.amount, plan.currency, plan.deals) == (
        MAY,
        alice,
        Decimal("1000.50"),
        "RUB",
        3,
    )
    again = plans.set_plan(admin, MAY, owner=alice, amount=2000, currency="usd", deals=4)
    assert again.pk == plan.pk and SalesPlan.objects.count() == 1
    assert (again.amount, again.currency) == (Decimal(2000), "USD")
    assert AuditEntry.objects.filter(action__in=["plan", "replan"]).count() == 2
    plans.delete_plan(admin, again)
    assert not SalesPlan.objects.exists()


def test_a_head_plans_their_team_and_its_members_only(helen, alice, carol, sales):
    assert plans.set_plan(helen, MAY, team=sales, amount=100).team == sales
    assert plans.set_plan(helen, MAY, owner=alice, amount=100).owner == alice
    before = rows()
    with pytest.raises(Denied):
        plans.set_plan(helen, MAY, owner=carol, amount=100)
    retail = carol.teams.get()
    with pytest.raises(Denied):
        plans.set_plan(helen, MAY, team=retail, amount=100)
    assert rows() == before


def test_a_manager_may_not_set_plans(alice, bob, sales):
    with pytest.raises(Denied):
        plans.set_plan(alice, MAY, owner=alice, amount=100)
    with pytest.raises(Denied):
        plans.set_plan(alice, MAY, team=sales, amount=100)
    assert not plans.may_plan(alice) and not SalesPlan.objects.exists()


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": 1, "currency": "XXX"}, "currency"),
        ({"amount": 1, "deals": -1}, "deals"),
    ],
)
def test_bad_values_are_named(admin, alice, fields, key):
    with pytest.raises(ValidationError) as excinfo:
        plans.set_plan(admin, MAY, owner=alice, **fields)
    assert key in excinfo.value.message_dict and not SalesPlan.objects.exists()


def test_owner_xor_team(admin, alice, sales):
    with pytest.raises(ValidationError):
        plans.set_plan(admin, MAY, owner=alice, team=sales, amount=1)
    with pytest.raises(ValidationError):
        plans.set_plan(admin, MAY, amount=1)


# --- the page ---------------------------------------------------------------------------------


def test_the_plans_page_for_a_head(helen_client, alice, carol, sales):
    page = helen_client.get("/deals/reports/plans/")
    assert page.status_code == 200
    choices = dict(page.context["form"].fields["target"].choices)
    assert set(choices) == {f"t{sales.pk}", f"u{alice.pk}"}
    answer = helen_client.post(
        "/deals/reports/plans/",
        {
            "month": "2026-05",
            "target": f"u{alice.pk}",
            "amount": "500",
            "currency": "RUB",
            "deals": 2,
        },
    )
    assert answer.status_code == 302
    assert SalesPlan.objects.get().owner == alice
    refused = helen_client.post(
        "/deals/reports/plans/",
        {
            "month": "2026-05",
            "target": f"u{carol.pk}",
            "amount": "5",
            "currency": "RUB",
            "deals": 1,
        },
    )
    assert refused.status_code == 422 and SalesPlan.objects.count() == 1
    bad = helen_client.post(
        "/deals/reports/plans/",
        {
            "month": "2026-13",
            "target": f"t{sales.pk}",
            "amount": "5",
            "currency": "RUB",
            "deals": 1,
        },
    )
    assert bad.status_code == 422 and "month" in bad.context["form"].errors


def test_a_manager_gets_403_and_nothing_changes(alice_client, alice, admin):
    plan = plans.set_plan(admin, MAY, owner=alice, amount=100)
    before = rows()
    assert alice_client.get("/deals/reports/plans/").status_code == 403
    body = {
        "month": "2026-05",
        "target": f"u{alice.pk}",
        "amount": "9",
        "currency": "RUB",
        "deals": 1,
    }
    assert alice_client.post("/deals/reports/plans/", body).status_code == 403
    assert alice_client.post(f"/deals/reports/plans/{plan.pk}/delete/").status_code == 403
    assert rows() == before


def test_a_head_may_not_delete_another_teams_plan(helen_client, admin, carol):
    plan = plans.set_plan(admin, MAY, owner=carol, amount=100)
    assert helen_client.post(f"/deals/reports/plans/{plan.pk}/delete/").status_code == 404
    assert SalesPlan.objects.filter(pk=plan.pk).exists()


# --- the API ----------------------------------------------------------------------------------


def test_api_put_get_delete(admin, alice, sales):
    api = Api(admin)
    body = {"month": "2026-05", "owner_id": alice.pk, "amount": "1500.00", "deals": 2}
    answer = api.send("put", "/plans", body, {})
    assert answer.status_code == 200, answer.content
    plan = answer.json()
    assert plan == {
        "id": plan["id"],
        "month": "2026-05",
        "owner": {"id": alice.pk, "username": "alice", "name": "Alice"},
        "team": None,
        "amount": "1500.00",
        "currency": "RUB",
        "deals": 2,
    }
    team = api.send("put", "/plans", {"month": "2026-05", "team_id": sales.pk, "amount": 9}, {})
    assert team.json()["team"] == {"id": sales.pk, "name": "Sales"}
    listed = api.get("/plans", {"from": "2026-01", "to": "2026-12"}).json()["items"]
    assert [p["id"] for p in listed] == [plan["id"], team.json()["id"]]
    assert api.get(f"/plans/{plan['id']}").json() == plan
    assert api.delete(f"/plans/{plan['id']}").status_code == 204
    assert api.get(f"/plans/{plan['id']}").status_code == 404


def test_api_rights(alice, bob, helen, carol, admin):
    theirs = plans.set_plan(admin, MAY, owner=carol, amount=1)
    mine = plans.set_plan(admin, MAY, owner=alice, amount=1)
    before = rows()
    manager = Api(alice)
    body = {"month": "2026-05", "owner_id": alice.pk, "amount": "1"}
    assert manager.send("put", "/plans", body, {}).status_code == 403
    assert manager.delete(f"/plans/{mine.pk}").status_code == 403
    assert manager.get(f"/plans/{mine.pk}").status_code == 200
    assert manager.get(f"/plans/{theirs.pk}").status_code == 404
    head = Api(helen)
    assert head.send("put", "/plans", body | {"owner_id": carol.pk}, {}).status_code == 403
    assert head.delete(f"/plans/{theirs.pk}").status_code == 404
    assert rows() == before
    assert head.send("put", "/plans", body | {"owner_id": bob.pk}, {}).status_code == 200


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"month": "2026-5", "owner_id": 1, "amount": "1"}, ["body", "month"]),
        ({"month": "2026-05", "amount": "1"}, ["body", "owner_id"]),
        ({"month": "2026-05", "owner_id": 999999, "amount": "1"}, ["body", "owner_id"]),
        ({"month": "2026-05", "owner_id": 1, "amount": "-1"}, ["body", "amount"]),
        (
            {"month": "2026-05", "owner_id": 1, "amount": "1", "currency": "XXX"},
            ["body", "currency"],
        ),
        ({"month": "2026-05", "owner_id": 1, "amount": "1", "id": 5}, ["body", "id"]),
    ],
)
def test_api_bad_bodies_422(admin, body, loc):
    if body.get("owner_id") == 1:
        body["owner_id"] = admin.pk
    assert locs(Api(admin).send("put", "/plans", body, {})) == [loc]
    assert not SalesPlan.objects.exists()


def test_the_plans_page_escapes_names(client, admin, alice, sales):
    sales.name = '"><img src=x onerror=alert(1)>'
    sales.save()
    plans.set_plan(admin, MAY, team=sales, amount=1)
    client.force_login(admin)
    html = client.get(
        "/deals/reports/plans/", {"from": "2026-01", "to": "2026-12"}
    ).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_settable_agrees_with_may_set_per_plan(admin, helen, alice, carol, sales):
    made = [
        plans.set_plan(admin, MAY, owner=alice, amount=1),
        plans.set_plan(admin, MAY, owner=carol, amount=1),
        plans.set_plan(admin, MAY, team=sales, amount=1),
    ]
    shown = list(plans.visible_plans(admin).filter(pk__in=[p.pk for p in made]))
    for user in (admin, helen, alice, carol):
        expected = {p.pk for p in shown if plans.may_set(user, p.owner, p.team)}
        assert plans.settable(user, shown) == expected
    assert plans.settable(helen, shown) == {made[0].pk, made[2].pk}
