"""/api/v1/interactions and the client timelines."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kartoteka.activities.models import Interaction
from kartoteka.activities.services import log_interaction
from kartoteka.clients import services
from kartoteka.clients.models import Client
from tests.api import Api, company, locs, person, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin) -> Api:
    """An administrator: these tests are about the API, not the role matrix (test_access)."""
    return Api(admin)


def ago(hours: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)


def test_log_read_change_and_trash(api, admin):
    p = person()
    body = {
        "client_id": p.pk,
        "kind": "purchase",
        "occurred_at": "2024-03-01T10:00:00+03:00",
        "amount": "1500.50",
        "currency": "rub",
        "items": [{"name": "Чай", "quantity": 2, "price": 750.25}],
    }
    response = api.post("/interactions", body)
    assert response.status_code == 201, response.content
    row = response.json()
    assert (
        row["author"]["id"] == admin.pk and row["amount"] == "1500.50" and row["currency"] == "RUB"
    )
    assert row["items"] == [{"name": "Чай", "quantity": "2", "price": "750.25"}]
    assert Client.objects.get(pk=p.pk).last_contact_at == dt.datetime(2024, 3, 1, 7, tzinfo=dt.UTC)
    assert api.get(f"/interactions/{row['id']}").json()["client_name"] == "Иванов"
    changed = api.patch(f"/interactions/{row['id']}", {"subject": "Заказ", "amount": "10"})
    assert changed.status_code == 200 and changed.json()["subject"] == "Заказ"
    assert changed.json()["amount"] == "10.00"
    assert api.delete(f"/interactions/{row['id']}").status_code == 204
    assert api.get(f"/interactions/{row['id']}").status_code == 404
    assert Client.objects.get(pk=p.pk).last_contact_at is None


def test_naive_time_is_read_in_the_server_zone(api):
    p = person()
    response = api.post(
        "/interactions", {"client_id": p.pk, "kind": "call", "occurred_at": "2024-03-01T10:00:00"}
    )
    assert response.status_code == 201, response.content
    stored = Interaction.objects.get().occurred_at
    assert stored == timezone.make_aware(dt.datetime(2024, 3, 1, 10))


@pytest.mark.parametrize(
    "body, loc",
    [
        ({"kind": "party"}, ["body", "kind"]),
        ({"kind": None}, ["body", "kind"]),
        ({"kind": "purchase"}, ["body", "amount"]),
        ({"amount": "-1", "currency": "RUB"}, ["body", "amount"]),
        ({"amount": "NaN", "currency": "RUB"}, ["body", "amount"]),
        ({"amount": "1e20", "currency": "RUB"}, ["body", "amount"]),
        ({"amount": "1.234", "currency": "RUB"}, ["body", "amount"]),
        ({"amount": "10"}, ["body", "currency"]),
        ({"amount": "10", "currency": "XXX"}, ["body", "currency"]),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, ["body", "occurred_at"]),
        ({"occurred_at": "0001-01-01T00:00:00+14:00"}, ["body", "occurred_at"]),
        ({"occurred_at": "yesterday"}, ["body", "occurred_at"]),
        ({"duration_seconds": -5}, ["body", "duration_seconds"]),
        ({"duration_seconds": 10**12}, ["body", "duration_seconds"]),
        ({"direction": "sideways"}, ["body", "direction"]),
        ({"channel": "pigeon"}, ["body", "channel"]),
        ({"items": [{"quantity": 1}]}, ["body", "items", 0, "name"]),
        ({"items": [{"name": "x", "quantity": -1}]}, ["body", "items", 0]),
        ({"items": "tea"}, ["body", "items"]),
        ({"subject": "x" * 301}, ["body", "subject"]),
        ({"author_id": 1}, ["body", "author_id"]),
        ({"deleted_at": "2020-01-01"}, ["body", "deleted_at"]),
        ({"client_id": "x"}, ["body", "client_id"]),
    ],
)
def test_bad_interactions_name_the_field(api, body, loc):
    p = person()
    before = snapshot()
    response = api.post("/interactions", {"client_id": p.pk, "kind": "note", **body})
    assert loc in locs(response), response.json()
    assert snapshot() == before


def test_interaction_for_unknown_or_trashed_client_is_refused(api):
    gone = person()
    services.trash_client(None, gone)
    before = snapshot()
    for client_id in (gone.pk, 999999):
        response = api.post("/interactions", {"client_id": client_id, "kind": "note"})
        assert locs(response) == [["body", "client_id"]]
    assert snapshot() == before


def test_patch_refuses_moving_to_another_client(api, alice):
    p, other = person(), person(last_name="Другой")
    row = log_interaction(alice, p, {"kind": "note"})
    before = snapshot()
    assert locs(api.patch(f"/interactions/{row.pk}", {"client_id": other.pk})) == [
        ["body", "client_id"]
    ]
    assert locs(api.patch(f"/interactions/{row.pk}", {"kind": "bogus"})) == [["body", "kind"]]
    assert snapshot() == before


def test_interactions_of_trashed_clients_are_hidden(api, alice):
    p = person()
    row = log_interaction(alice, p, {"kind": "note"})
    services.trash_client(None, p)
    assert api.get(f"/interactions/{row.pk}").status_code == 404
    assert api.get("/interactions").json()["items"] == []
    assert api.patch(f"/interactions/{row.pk}", {"subject": "x"}).status_code == 404
    assert api.delete(f"/interactions/{row.pk}").status_code == 404


def test_list_filters_and_pages(api, alice):
    a, b = person(last_name="А"), person(last_name="Б")
    for i in range(5):
        log_interaction(alice, a, {"kind": "call" if i % 2 else "note", "occurred_at": ago(i)})
    log_interaction(alice, b, {"kind": "call", "occurred_at": ago(48)})
    assert len(api.get("/interactions").json()["items"]) == 6
    assert len(api.get("/interactions", {"client_id": a.pk}).json()["items"]) == 5
    assert len(api.get("/interactions", {"kind": "call"}).json()["items"]) == 3
    today = timezone.localdate()
    two_days_ago = (today - dt.timedelta(days=2)).isoformat()
    assert len(api.get("/interactions", {"until": two_days_ago}).json()["items"]) <= 1
    assert len(api.get("/interactions", {"since": today.isoformat()}).json()["items"]) >= 1
    first = api.get("/interactions", {"limit": 4}).json()
    rest = api.get("/interactions", {"limit": 4, "cursor": first["next_cursor"]}).json()
    ids = [r["id"] for r in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == 6 and rest["next_cursor"] is None
    occurred = [r["occurred_at"] for r in first["items"] + rest["items"]]
    assert occurred == sorted(occurred, reverse=True)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"kind": "party"}, "kind"),
        ({"since": "never"}, "since"),
        ({"client_id": "x"}, "client_id"),
        ({"cursor": "!!"}, "cursor"),
        ({"cursor": "WyJ4IiwxXQ"}, "cursor"),
        ({"limit": 1000}, "limit"),
    ],
)
def test_bad_list_params_are_422(api, params, field):
    assert ["query", field] in locs(api.get("/interactions", params))


def test_company_timeline_includes_staff(api, alice):
    c, p = company(), person()
    services.link_person(alice, p, c, "director")
    log_interaction(alice, c, {"kind": "meeting", "occurred_at": ago(2)})
    log_interaction(alice, p, {"kind": "call", "occurred_at": ago(1)})
    company_line = api.get(f"/companies/{c.pk}/timeline").json()
    assert [r["kind"] for r in company_line["items"]] == ["call", "meeting"]
    assert [r["kind"] for r in api.get(f"/persons/{p.pk}/timeline").json()["items"]] == ["call"]
    assert [
        r["kind"]
        for r in api.get(f"/companies/{c.pk}/timeline", {"kind": "meeting"}).json()["items"]
    ] == ["meeting"]
    assert api.get(f"/persons/{c.pk}/timeline").status_code == 404
    assert locs(api.get(f"/companies/{c.pk}/timeline", {"cursor": "bad"})) == [["query", "cursor"]]
    assert locs(api.get(f"/companies/{c.pk}/timeline", {"kind": "x"})) == [["query", "kind"]]


def test_unauthenticated_interactions_are_401(alice):
    row = log_interaction(alice, person(), {"kind": "note"})
    anonymous = Api(None)
    before = snapshot()
    assert anonymous.get("/interactions").status_code == 401
    assert anonymous.get(f"/interactions/{row.pk}").status_code == 401
    assert anonymous.patch(f"/interactions/{row.pk}", {"subject": "x"}).status_code == 401
    assert anonymous.delete(f"/interactions/{row.pk}").status_code == 401
    assert (
        anonymous.post("/interactions", {"client_id": row.client_id, "kind": "note"}).status_code
        == 401
    )
    assert snapshot() == before
