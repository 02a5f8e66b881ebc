"""Persons and companies through /api/v1: create, read, change, trash, restore, links."""

from __future__ import annotations

import pytest

from kartoteka.clients.models import Client, ClientEvent, Employment
from tests.api import Api, company, locs, person, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin) -> Api:
    """An administrator: these tests are about the API, not the role matrix (test_access)."""
    return Api(admin)


def test_create_person_returns_the_card_with_etag(api, alice):
    body = {
        "last_name": "Рябов",
        "first_name": "Пётр",
        "birthday": "1980-05-01",
        "phones": [{"number": "8 (916) 123-45-67", "kind": "mobile"}],
        "emails": [{"email": "Petr@Example.COM"}],
        "tags": ["vip", "опт"],
        "owner_id": alice.pk,
        "stage": "prospect",
        "source": "website",
    }
    response = api.post("/persons", body)
    assert response.status_code == 201, response.content
    card = response.json()
    assert card["kind"] == "person" and card["name"] == "Рябов Пётр"
    assert card["phones"] == [
        {"kind": "mobile", "e164": "+79161234567", "raw": "8 (916) 123-45-67"}
    ]
    assert card["emails"] == [{"kind": "work", "email": "petr@example.com"}]
    assert card["tags"] == ["vip", "опт"]
    assert card["owner"]["id"] == alice.pk
    assert card["version"] == 1 and response["ETag"] == '"1"'
    assert card["jobs"] == [] and card["completeness"] > 0
    assert "company_name" not in card or card["company_name"] == ""


def test_create_company_and_read_it(api):
    response = api.post(
        "/companies", {"company_name": "Ромашка", "legal_form": "ООО", "inn": "7707083893"}
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    card = api.get(f"/companies/{pk}")
    assert card.status_code == 200
    assert card.json()["name"] == "ООО Ромашка" and card.json()["inn"] == "7707083893"
    assert card.json()["staff"] == [] and card["ETag"] == '"1"'


def test_kinds_do_not_mix(api):
    p = person()
    assert api.get(f"/companies/{p.pk}").status_code == 404
    assert api.patch(f"/companies/{p.pk}", {"version": 1}).status_code == 404
    assert api.delete(f"/companies/{p.pk}").status_code == 404


def test_patch_with_if_match_changes_only_given_fields(api):
    p = person(first_name="Анна", phones=("+79161234567",))
    response = api.patch(f"/persons/{p.pk}", {"middle_name": "Сергеевна"}, **{"If-Match": '"1"'})
    assert response.status_code == 200, response.content
    card = response.json()
    assert card["name"] == "Иванов Анна Сергеевна" and card["version"] == 2
    assert response["ETag"] == '"2"'
    assert [ph["e164"] for ph in card["phones"]] == ["+79161234567"]


def test_patch_with_version_in_body_and_null_clears(api):
    p = person(first_name="Анна", address="Москва")
    response = api.patch(f"/persons/{p.pk}", {"version": 1, "address": None, "phones": []})
    assert response.status_code == 200, response.content
    assert response.json()["address"] == "" and response.json()["phones"] == []


def test_patch_without_version_is_428_and_changes_nothing(api):
    p = person()
    before = snapshot()
    response = api.patch(f"/persons/{p.pk}", {"first_name": "Олег"})
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    assert snapshot() == before


def test_stale_version_is_412_with_current_version(api, admin):
    p = person()
    Api(admin).patch(f"/persons/{p.pk}", {"first_name": "Борис"}, **{"If-Match": '"1"'})
    before = snapshot()
    response = api.patch(f"/persons/{p.pk}", {"first_name": "Олег"}, **{"If-Match": '"1"'})
    assert response.status_code == 412
    assert response.json()["current_version"] == 2 and response["ETag"] == '"2"'
    assert snapshot() == before
    stale_body = api.patch(f"/persons/{p.pk}", {"first_name": "Олег", "version": 1})
    assert stale_body.status_code == 412


@pytest.mark.parametrize("header", ["abc", "*", '"1', "99999999999999"])
def test_garbage_if_match_is_422(api, header):
    p = person()
    before = snapshot()
    response = api.patch(f"/persons/{p.pk}", {"first_name": "Олег"}, **{"If-Match": header})
    assert response.status_code in (412, 422)
    assert snapshot() == before


def test_delete_goes_to_trash_and_restore_brings_back(api):
    p = person()
    assert api.delete(f"/persons/{p.pk}").status_code == 204
    assert Client.all_objects.get(pk=p.pk).deleted_at is not None
    assert api.get(f"/persons/{p.pk}").status_code == 404
    assert api.patch(f"/persons/{p.pk}", {"version": 1}).status_code == 404
    assert api.delete(f"/persons/{p.pk}").status_code == 404
    restored = api.post(f"/persons/{p.pk}/restore")
    assert restored.status_code == 200 and restored.json()["id"] == p.pk
    assert api.get(f"/persons/{p.pk}").status_code == 200
    verbs = list(ClientEvent.objects.filter(client=p).values_list("verb", flat=True))
    assert ClientEvent.Verb.DELETED in verbs and ClientEvent.Verb.RESTORED in verbs


def test_delete_with_stale_if_match_is_refused(api):
    p = person()
    response = api.delete(f"/persons/{p.pk}", **{"If-Match": '"7"'})
    assert response.status_code == 412
    assert Client.objects.filter(pk=p.pk).exists()


def test_unknown_ids_are_404_never_403_or_500(api):
    for path in (
        "/persons/999999",
        "/persons/99999999999999999999999",
        "/companies/0",
        "/persons/-1",
        "/persons/999999/timeline",
        "/companies/999999/staff",
    ):
        assert api.get(path).status_code in (404, 422), path
    assert api.post("/persons/999999/restore").status_code == 404
    assert api.get("/persons/abc").status_code == 422


def test_unauthenticated_is_401_and_bad_token_too(db):
    p = person()
    before = snapshot()
    for anonymous in (Api(None), Api(None)):
        assert anonymous.get("/persons").status_code == 401
    bad = Api(None)
    bad.http.defaults["HTTP_AUTHORIZATION"] = "Bearer kt_not-a-token"
    assert bad.get(f"/persons/{p.pk}").status_code == 401
    assert bad.post("/persons", {"last_name": "X"}).status_code == 401
    assert bad.delete(f"/persons/{p.pk}").status_code == 401
    assert snapshot() == before


def test_inactive_user_token_is_refused(alice):
    api = Api(alice)
    alice.is_active = False
    alice.save()
    assert api.get("/persons").status_code == 401


@pytest.mark.parametrize(
    "key",
    [
        "owner",
        "role",
        "is_superuser",
        "deleted_at",
        "created_by",
        "id",
        "version",
        "completeness",
        "name",
        "kind",
        "search_text",
    ],
)
def test_mass_assignment_is_refused_on_create(api, key):
    before = snapshot()
    response = api.post("/persons", {"last_name": "Петров", key: 1})
    assert locs(response) == [["body", key]]
    assert snapshot() == before


@pytest.mark.parametrize(
    "key", ["owner", "is_superuser", "deleted_at", "created_by", "created_at", "inn"]
)
def test_mass_assignment_is_refused_on_update(api, key):
    p = person()
    before = snapshot()
    response = api.patch(
        f"/persons/{p.pk}", {"first_name": "Олег", key: "2020-01-01"}, **{"If-Match": '"1"'}
    )
    assert locs(response) == [["body", key]]
    assert snapshot() == before


def test_owner_must_be_an_active_user(api, bob):
    bob.is_active = False
    bob.save()
    before = snapshot()
    for owner in (bob.pk, 987654):
        assert locs(api.post("/persons", {"last_name": "Петров", "owner_id": owner})) == [
            ["body", "owner_id"]
        ]
    assert snapshot() == before


def test_link_and_unlink_staff(api):
    c, p = company(), person(first_name="Ольга")
    response = api.post(
        f"/companies/{c.pk}/staff", {"person_id": p.pk, "role": "director", "position": "CEO"}
    )
    assert response.status_code == 201, response.content
    link = response.json()
    assert link["person"]["id"] == p.pk and link["company"]["id"] == c.pk
    assert api.get(f"/companies/{c.pk}/staff").json()["items"][0]["id"] == link["id"]
    assert api.get(f"/persons/{p.pk}/jobs").json()["items"][0]["role"] == "director"
    assert api.get(f"/persons/{p.pk}").json()["jobs"][0]["company"]["name"] == "Ромашка"
    assert api.get(f"/companies/{c.pk}").json()["staff"][0]["person"]["id"] == p.pk
    assert api.delete(f"/companies/{c.pk}/staff/{link['id']}").status_code == 204
    assert not Employment.objects.exists()
    assert api.delete(f"/companies/{c.pk}/staff/{link['id']}").status_code == 404


def test_link_refuses_bad_references_and_changes_nothing(api):
    c, other, p = company(), company(company_name="Лютик"), person()
    trashed = person(last_name="Удалённый")
    trashed.deleted_at = trashed.created_at
    trashed.save()
    before = snapshot()
    for person_id in (999999, other.pk, trashed.pk):
        assert locs(api.post(f"/companies/{c.pk}/staff", {"person_id": person_id})) == [
            ["body", "person_id"]
        ]
    assert locs(api.post(f"/companies/{c.pk}/staff", {"person_id": p.pk, "role": "king"})) == [
        ["body", "role"]
    ]
    assert api.post(f"/companies/{p.pk}/staff", {"person_id": p.pk}).status_code == 404
    assert snapshot() == before
