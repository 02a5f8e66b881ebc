"""/api/v1/pipelines and /api/v1/deals: list, create, read, change, move, trash, restore."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartoteka.sales import services
from kartoteka.sales.models import Deal, StageChange
from tests.api import Api, locs
from tests.sales import (
    LOST,
    NEEDS,
    NEW,
    OFFER,
    WON,
    company,
    deal,
    first_pipeline,
    person,
    reason,
    snapshot,
    stage,
)

pytestmark = pytest.mark.django_db
XSS = '"><img src=x onerror=alert(1)><svg onload=alert(1)>'


@pytest.fixture
def api(alice) -> Api:
    return Api(alice)


def test_without_a_token_401(db):
    before = snapshot()
    assert Api(None).get("/deals").status_code == 401
    assert Api(None).get("/pipelines").status_code == 401
    assert Api(None).post("/deals", {"title": "A", "client_id": 1}).status_code == 401
    assert snapshot() == before


def test_pipelines_with_stages_and_loss_reasons(api):
    body = api.get("/pipelines").json()
    (pipeline,) = [p for p in body["items"] if p["id"] == first_pipeline().pk]
    assert [s["kind"] for s in pipeline["stages"]] == ["open"] * 4 + ["won", "lost"]
    assert pipeline["stages"][OFFER]["required_fields"] == ["amount", "expected_close"]
    assert pipeline["stages"][WON]["probability"] == 100
    assert set(pipeline["stages"][0]) == {
        "id",
        "name",
        "position",
        "probability",
        "kind",
        "required_fields",
    }
    assert reason().pk in [r["id"] for r in body["loss_reasons"]]


# --- create -----------------------------------------------------------------------------------


def test_create_with_defaults_201(api, alice):
    client, contact = company(alice), person(alice)
    body = {
        "title": "Поставка",
        "client_id": client.pk,
        "contact_ids": [contact.pk],
        "amount": "1500.50",
        "currency": "usd",
        "expected_close": "2027-02-01",
        "source": "website",
        "next_step": "Позвонить",
    }
    response = api.post("/deals", body)
    assert response.status_code == 201, response.content
    card = response.json()
    assert card["stage"]["id"] == stage(NEW).pk and card["pipeline_id"] == first_pipeline().pk
    assert card["owner"]["id"] == alice.pk and card["version"] == 1 and response["ETag"] == '"1"'
    assert card["amount"] == "1500.50" and card["currency"] == "USD"
    assert card["client"] == {"id": client.pk, "kind": "company", "name": client.name}
    assert [c["id"] for c in card["contacts"]] == [contact.pk]
    assert [(h["from_stage"], h["to_stage"]["id"]) for h in card["history"]] == [
        (None, stage(NEW).pk)
    ]


def test_create_at_a_stage_needs_its_fields(api, alice):
    client = person(alice)
    response = api.post(
        "/deals", {"title": "A", "client_id": client.pk, "stage_id": stage(OFFER).pk}
    )
    assert sorted(locs(response)) == [["body", "amount"], ["body", "expected_close"]]
    assert not Deal.objects.exists()


@pytest.mark.parametrize(
    ("extra", "loc"),
    [
        ({"amount": "-1"}, ["body", "amount"]),
        ({"amount": "1.005"}, ["body", "amount"]),
        ({"amount": "NaN"}, ["body", "amount"]),
        ({"currency": "XXX"}, ["body", "currency"]),
        ({"title": ""}, ["body", "title"]),
        ({"version": 5}, ["body", "version"]),
        ({"deleted_at": "2020-01-01T00:00:00Z"}, ["body", "deleted_at"]),
        ({"owner": 1}, ["body", "owner"]),
        ({"stage": 1}, ["body", "stage"]),
        ({"closed_at": "2020-01-01T00:00:00Z"}, ["body", "closed_at"]),
        ({"pipeline_id": 2**40}, ["body", "pipeline_id"]),
        ({"stage_id": 2**40}, ["body", "stage_id"]),
        ({"contact_ids": [2**40]}, ["body", "contact_ids"]),
        ({"owner_id": 2**40}, ["body", "owner_id"]),
        ({"client_id": 2**40}, ["body", "client_id"]),
        ({"source": "nowhere"}, ["body", "source"]),
        ({"title": "a\x00b"}, ["body", "title"]),
    ],
)
def test_bad_bodies_are_422_naming_the_field(api, alice, extra, loc):
    body = {"title": "A", "client_id": person(alice).pk, **extra}
    before = snapshot()
    assert loc in locs(api.post("/deals", body))
    assert snapshot() == before


def test_references_the_user_may_not_use_are_422(api, alice, bob, admin):
    mine = person(alice)
    other = services.install_blueprint(admin, "strategic")
    cases = [
        ({"client_id": person(bob, "Чужой").pk}, ["body", "client_id"]),
        ({"contact_ids": [person(bob, "Чужой").pk]}, ["body", "contact_ids"]),
        ({"contact_ids": [company(alice).pk]}, ["body", "contact_ids"]),
        ({"owner_id": bob.pk}, ["body", "owner_id"]),
        (
            {"pipeline_id": first_pipeline().pk, "stage_id": other.stages.first().pk},
            ["body", "stage_id"],
        ),
        ({"stage_id": stage(WON).pk, "amount": 1}, ["body", "stage_id"]),
    ]
    before = snapshot()
    for extra, loc in cases:
        assert locs(api.post("/deals", {"title": "A", "client_id": mine.pk, **extra})) == [loc]
    assert snapshot() == before


def test_roles_without_create_get_403(db):
    from tests.conftest import make_user

    marketer = make_user("mary", role="marketer")
    response = Api(marketer).post("/deals", {"title": "A", "client_id": person(marketer).pk})
    assert response.status_code == 403 and not Deal.objects.exists()


def test_markup_in_the_title_is_stored_verbatim_and_returned_as_data(api, alice):
    response = api.post("/deals", {"title": XSS, "client_id": person(alice).pk})
    assert response.status_code == 201 and response["Content-Type"].startswith("application/json")
    assert response.json()["title"] == XSS
    assert Deal.objects.get().title == XSS
    assert api.get("/deals", {"q": "<img"}).json()["items"][0]["title"] == XSS


# --- list -------------------------------------------------------------------------------------


def test_list_filters(api, alice, bob, admin):
    client, other_client = person(alice), person(alice, "Сидоров")
    a = deal(alice, client, title="Поставка ЁЛОК Рябову", amount=Decimal(1))
    b = deal(alice, other_client, title="Ремонт")
    c = deal(None, client, title="Ничья")
    deal(bob, title="Чужая")
    services.move_deal(None, a, stage(WON), 1)
    services.move_deal(None, b, stage(LOST), 1, {"loss_reason": reason()})
    strategic = services.install_blueprint(admin, "strategic")
    Api(admin).post(
        "/deals", {"title": "Тендер", "client_id": client.pk, "pipeline_id": strategic.pk}
    )

    def ids(**params):
        response = api.get("/deals", params)
        assert response.status_code == 200, response.content
        return {i["id"] for i in response.json()["items"]}

    assert ids() == {a.pk, b.pk}  # a manager sees her own deals only
    assert Api(admin).get("/deals", {"owner": "none"}).json()["items"][0]["id"] == c.pk
    assert ids(owner="me") == {a.pk, b.pk} and ids(owner=str(bob.pk)) == set()
    assert ids(status="won") == {a.pk} and ids(status="lost") == {b.pk} and not ids(status="open")
    assert ids(stage=stage(LOST).pk) == {b.pk} and ids(client_id=other_client.pk) == {b.pk}
    assert ids(pipeline=first_pipeline().pk) == {a.pk, b.pk} and not ids(pipeline=strategic.pk)
    assert ids(q="ёлок") == {a.pk} and ids(q="РЯБОВ") == {a.pk} and ids(q="ремонт") == {b.pk}


def test_list_pages_by_cursor(api, alice):
    client = person(alice)
    made = {deal(alice, client, title=f"Сделка {i}").pk for i in range(7)}
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = api.get("/deals", params).json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)
    assert locs(api.get("/deals", {"cursor": "garbage!"})) == [["query", "cursor"]]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"_connector": "OR"}, ["query", "_connector"]),
        ({"x__regex": ".*"}, ["query", "x__regex"]),
        ({"owner__password__startswith": "a"}, ["query", "owner__password__startswith"]),
        ({"owner": "1 OR 1=1"}, ["query", "owner"]),
        ({"status": "closed"}, ["query", "status"]),
        ({"stage": "1'--"}, ["query", "stage"]),
        ({"limit": 0}, ["query", "limit"]),
    ],
)
def test_list_refuses_unknown_and_bad_filters(api, alice, params, loc):
    deal(alice)
    assert loc in locs(api.get("/deals", params))


# --- read, patch ------------------------------------------------------------------------------


def test_read_with_history(api, alice):
    made = deal(alice, amount=Decimal(1))
    services.move_deal(alice, made, stage(NEEDS), 1)
    response = api.get(f"/deals/{made.pk}")
    assert response.status_code == 200 and response["ETag"] == '"2"'
    history = response.json()["history"]
    assert [h["to_stage"]["id"] for h in history] == [stage(NEEDS).pk, stage(NEW).pk]
    assert history[0]["from_stage"]["id"] == stage(NEW).pk
    assert history[0]["actor"]["id"] == alice.pk and history[0]["seconds_in_stage"] >= 0
    assert history[1]["actor"] is None and history[1]["seconds_in_stage"] is None


def test_patch_with_version_or_if_match(api, alice):
    made = deal(alice)
    response = api.patch(f"/deals/{made.pk}", {"version": 1, "next_step": "Встреча"})
    assert response.status_code == 200, response.content
    assert response.json()["next_step"] == "Встреча" and response["ETag"] == '"2"'
    response = api.patch(f"/deals/{made.pk}", {"amount": "10"}, **{"If-Match": '"2"'})
    assert response.status_code == 200 and response.json()["amount"] == "10.00"
    before = snapshot()
    stale = api.patch(f"/deals/{made.pk}", {"version": 1, "next_step": "X"})
    assert stale.status_code == 412 and stale.json()["current_version"] == 3
    assert api.patch(f"/deals/{made.pk}", {"next_step": "X"}).status_code == 428
    assert locs(api.patch(f"/deals/{made.pk}", {"version": 3, "stage_id": stage(WON).pk})) == [
        ["body", "stage_id"]
    ]
    assert locs(api.patch(f"/deals/{made.pk}", {"version": 3, "deleted_at": None})) == [
        ["body", "deleted_at"]
    ]
    assert snapshot() == before


def test_patch_refuses_reassigning_without_the_right(api, alice, bob):
    made = deal(alice)
    before = snapshot()
    assert locs(api.patch(f"/deals/{made.pk}", {"version": 1, "owner_id": bob.pk})) == [
        ["body", "owner_id"]
    ]
    assert snapshot() == before


# --- move -------------------------------------------------------------------------------------


def test_move_names_each_missing_field(api, alice):
    made = deal(alice)
    before = snapshot()
    response = api.post(f"/deals/{made.pk}/move", {"stage_id": stage(OFFER).pk, "version": 1})
    assert sorted(locs(response)) == [["body", "amount"], ["body", "expected_close"]]
    response = api.post(f"/deals/{made.pk}/move", {"stage_id": stage(LOST).pk, "version": 1})
    assert locs(response) == [["body", "loss_reason_id"]]
    assert snapshot() == before
    body = {
        "stage_id": stage(OFFER).pk,
        "version": 1,
        "amount": 300,
        "expected_close": "2027-05-01",
    }
    response = api.post(f"/deals/{made.pk}/move", body)
    assert response.status_code == 200, response.content
    card = response.json()
    assert card["stage"]["id"] == stage(OFFER).pk and card["amount"] == "300.00"
    assert card["version"] == 2 and response["ETag"] == '"2"'
    body = {"stage_id": stage(LOST).pk, "loss_reason_id": reason().pk}
    response = api.post(f"/deals/{made.pk}/move", body, **{"If-Match": '"2"'})
    assert response.status_code == 200, response.content
    assert response.json()["loss_reason"]["id"] == reason().pk
    assert response.json()["closed_at"] is not None


def test_move_412_when_someone_moved_it_first(api, alice, helen):
    made = deal(alice, amount=Decimal(1))
    assert (
        Api(helen)
        .post(f"/deals/{made.pk}/move", {"stage_id": stage(WON).pk, "version": 1})
        .status_code
        == 200
    )
    before = snapshot()
    response = api.post(f"/deals/{made.pk}/move", {"stage_id": stage(NEEDS).pk, "version": 1})
    assert response.status_code == 412 and response.json()["current_version"] == 2
    assert snapshot() == before
    assert api.get(f"/deals/{made.pk}").json()["stage"]["id"] == stage(WON).pk


def test_move_refuses_bad_stages(api, alice, admin):
    made = deal(alice)
    other = services.install_blueprint(admin, "consultative")
    before = snapshot()
    for stage_id in (other.stages.first().pk, 2**40):
        response = api.post(f"/deals/{made.pk}/move", {"stage_id": stage_id, "version": 1})
        assert locs(response) == [["body", "stage_id"]]
    assert locs(
        api.post(
            f"/deals/{made.pk}/move",
            {"stage_id": stage(LOST).pk, "version": 1, "loss_reason_id": 2**40},
        )
    ) == [["body", "loss_reason_id"]]
    assert locs(
        api.post(f"/deals/{made.pk}/move", {"stage_id": stage(NEW).pk, "version": 1, "title": "x"})
    ) == [["body", "title"]]
    assert api.post(f"/deals/{made.pk}/move", {"stage_id": stage(NEW).pk}).status_code == 428
    assert snapshot() == before


# --- trash, restore, other owners -------------------------------------------------------------


def test_delete_and_restore(alice, helen):
    made = deal(alice)
    head = Api(helen)
    before = snapshot()
    stale = head.delete(f"/deals/{made.pk}", **{"If-Match": '"7"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 1
    assert snapshot() == before
    assert head.delete(f"/deals/{made.pk}", **{"If-Match": '"1"'}).status_code == 204
    assert head.get(f"/deals/{made.pk}").status_code == 404
    assert made.pk not in [i["id"] for i in head.get("/deals").json()["items"]]
    response = head.post(f"/deals/{made.pk}/restore")
    assert response.status_code == 200 and response.json()["id"] == made.pk
    assert head.get(f"/deals/{made.pk}").status_code == 200


def test_other_owners_deals_are_404_and_unchanged(api, bob):
    theirs = deal(bob, amount=Decimal(1))
    services.move_deal(None, theirs, stage(NEEDS), 1)
    before = snapshot()
    assert api.get(f"/deals/{theirs.pk}").status_code == 404
    assert api.patch(f"/deals/{theirs.pk}", {"version": 2, "title": "X"}).status_code == 404
    assert (
        api.post(f"/deals/{theirs.pk}/move", {"stage_id": stage(NEW).pk, "version": 2}).status_code
        == 404
    )
    assert api.delete(f"/deals/{theirs.pk}").status_code == 404
    assert api.post(f"/deals/{theirs.pk}/restore").status_code == 404
    assert api.get("/deals", {"client_id": theirs.client_id}).json()["items"] == []
    assert api.get("/deals/999999999").status_code == 404
    assert snapshot() == before
    assert StageChange.objects.filter(deal=theirs).count() == 2


# --- garbage ----------------------------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
SCALAR = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | TEXT
VALUE = st.recursive(
    SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=2)
)
KEYS = [
    "title",
    "client_id",
    "contact_ids",
    "owner_id",
    "amount",
    "currency",
    "expected_close",
    "source",
    "next_step",
    "pipeline_id",
    "stage_id",
    "version",
    "loss_reason_id",
    "deleted_at",
]
FILTERS = ["pipeline", "stage", "owner", "client_id", "status", "q", "cursor", "limit", "x__regex"]
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _no_500(response) -> None:
    assert response.status_code < 500, response.content
    if response.status_code == 422:
        assert all(e["loc"] and e["msg"] for e in response.json()["detail"])


@FUZZ
@given(garbage=st.fixed_dictionaries({}, optional=dict.fromkeys(KEYS, VALUE)))
def test_fuzz_writes_never_500_and_refusals_change_nothing(api, alice, garbage):
    made = deal(alice)
    base = {"title": "A", "client_id": made.client_id}
    before = snapshot()
    responses = [
        api.post("/deals", {**base, **garbage}),
        api.patch(f"/deals/{made.pk}", {"version": 1, **garbage}),
        api.post(f"/deals/{made.pk}/move", {"stage_id": stage(NEEDS).pk, **garbage}),
    ]
    for response in responses:
        _no_500(response)
    if all(r.status_code >= 400 for r in responses):
        assert snapshot() == before


@FUZZ
@given(params=st.dictionaries(st.sampled_from(FILTERS) | TEXT, TEXT, max_size=4))
def test_fuzz_list_filters_never_500(api, alice, params):
    deal(alice)
    _no_500(api.get("/deals", params))


def test_a_head_gives_deals_only_within_the_team(alice, bob, helen, carol):
    made = deal(alice)
    refused = Api(helen).patch(f"/deals/{made.pk}", {"version": 1, "owner_id": carol.pk})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "owner_id"]
    made.refresh_from_db()
    assert (made.owner_id, made.version) == (alice.pk, 1)
    given = Api(helen).patch(f"/deals/{made.pk}", {"version": 1, "owner_id": bob.pk})
    assert given.status_code == 200 and given.json()["owner"]["id"] == bob.pk


def test_list_and_card_query_counts_do_not_grow(api, alice):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, contact = person(alice), person(alice, "Контакт")
    first = services.create_deal(alice, {"title": "A", "client": client}, contacts=[contact])

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(path).status_code == 200
        return len(queries.captured_queries)

    count("/deals")  # the first request of a token also records its use
    few, card = count("/deals"), count(f"/deals/{first.pk}")
    for i in range(15):
        made = services.create_deal(alice, {"title": f"B{i}", "client": client}, contacts=[contact])
        services.move_deal(alice, made, stage(NEEDS), 1, {"amount": 1})
    services.move_deal(alice, first, stage(NEEDS), 1, {"amount": 1})
    assert count("/deals") == few and count(f"/deals/{first.pk}") == card


def test_move_with_the_contacts_a_stage_requires(api, alice):
    from kartoteka.sales.models import Pipeline, Stage

    pipeline = Pipeline.objects.create(name="Партнёры", position=5)
    Stage.objects.create(pipeline=pipeline, name="Начало", position=0)
    meeting = Stage.objects.create(
        pipeline=pipeline, name="Встреча", position=1, required_fields=["contacts"]
    )
    made = services.create_deal(
        alice, {"title": "A", "client": company(alice), "pipeline": pipeline}
    )
    body = {"stage_id": meeting.pk, "version": 1}
    before = snapshot()
    assert locs(api.post(f"/deals/{made.pk}/move", body)) == [["body", "contact_ids"]]
    assert locs(api.post(f"/deals/{made.pk}/move", {**body, "contact_ids": [2**40]})) == [
        ["body", "contact_ids"]
    ]
    assert snapshot() == before
    contact = person(alice)
    response = api.post(f"/deals/{made.pk}/move", {**body, "contact_ids": [contact.pk]})
    assert response.status_code == 200, response.content
    assert [c["id"] for c in response.json()["contacts"]] == [contact.pk]
