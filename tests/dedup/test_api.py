"""/api/v1/dedup and the duplicates on /persons and /companies create."""

from __future__ import annotations

import pytest

from kartoteka.clients.models import Client
from kartoteka.dedup import services
from kartoteka.dedup.models import Candidate, Merge
from tests.api import Api
from tests.dedup import company, person, snapshot

pytestmark = pytest.mark.django_db
BODY = {"last_name": "Ryabov", "first_name": "Ivan", "phones": [{"number": "8 916 123-45-67"}]}


@pytest.fixture
def ivan(alice):
    return person(alice, phones=("+79161234567",), middle_name="Петрович")


def test_create_names_likely_duplicates(alice, ivan):
    answer = Api(alice).post("/persons", BODY)
    assert answer.status_code == 201
    (dup,) = answer.json()["likely_duplicates"]
    assert (
        dup["id"] == ivan.pk and "phone" in dup["reasons"] and "transliteration" in dup["reasons"]
    )


def test_reject_answers_409_naming_them_and_writes_nothing(alice, ivan):
    count = Client.objects.count()
    answer = Api(alice).post("/persons?on_duplicate=reject", BODY)
    assert answer.status_code == 409
    assert [d["id"] for d in answer.json()["duplicates"]] == [ivan.pk]
    assert Client.objects.count() == count


def test_reject_without_duplicates_creates(alice, ivan):
    body = {"last_name": "Петров", "first_name": "Пётр"}
    assert Api(alice).post("/persons?on_duplicate=reject", body).status_code == 201


def test_edit_names_likely_duplicates_of_the_changed_record(alice, ivan):
    other = person(alice, "Ryabov", "Ivan")
    body = {"version": other.version, "phones": [{"number": "+7 (916) 123 45 67"}]}
    answer = Api(alice).patch(f"/persons/{other.pk}", body)
    assert answer.status_code == 200
    assert [d["id"] for d in answer.json()["likely_duplicates"]] == [ivan.pk]


def test_edit_with_reject_answers_409_and_saves_nothing(alice, ivan):
    other = person(alice, "Петров", "Пётр")
    before = snapshot(other)
    body = {
        "version": other.version,
        "last_name": "Рябов",
        "first_name": "Иван",
        "phones": [{"number": "8 916 1234567"}],
    }
    answer = Api(alice).patch(f"/persons/{other.pk}?on_duplicate=reject", body)
    assert answer.status_code == 409
    assert [d["id"] for d in answer.json()["duplicates"]] == [ivan.pk]
    assert snapshot(Client.objects.get(pk=other.pk)) == before


def test_edit_with_reject_and_no_duplicates_saves(alice, ivan):
    other = person(alice, "Петров", "Пётр")
    body = {"version": other.version, "first_name": "Павел"}
    answer = Api(alice).patch(f"/persons/{other.pk}?on_duplicate=reject", body)
    assert answer.status_code == 200 and answer.json()["likely_duplicates"] == []
    assert Client.objects.get(pk=other.pk).first_name == "Павел"


def test_a_colleagues_duplicate_is_counted_not_named(carol, ivan):
    answer = Api(carol).post("/persons?on_duplicate=reject", BODY)
    assert answer.status_code == 409
    assert answer.json()["duplicates"] == [] and answer.json()["hidden"] == 1


def test_company_legal_form_spelt_otherwise(alice):
    firm = company(alice, "Ромашка", inn="7707083893")
    body = {"company_name": 'OOO "Romashka"', "inn": "7707083893"}
    answer = Api(alice).post("/companies?on_duplicate=reject", body)
    assert answer.status_code == 409 and answer.json()["duplicates"][0]["id"] == firm.pk


def test_check_endpoint(alice, ivan):
    body = {
        "kind": "person",
        "last_name": "Иван",
        "first_name": "Рябов",
        "phones": ["+7 916 1234567"],
    }
    items = Api(alice).post("/dedup/check", body).json()["items"]
    assert [i["id"] for i in items] == [ivan.pk] and "names_swapped" in items[0]["reasons"]
    body["exclude_id"] = ivan.pk
    assert Api(alice).post("/dedup/check", body).json()["items"] == []


def test_check_refuses_unknown_keys(alice):
    answer = Api(alice).post("/dedup/check", {"kind": "person", "owner_id": 1})
    assert answer.status_code == 422


@pytest.fixture
def queue(alice, bob, ivan):
    mine = person(alice, "Рябов", "Иван", phones=("+79161234567",))
    other = person(bob, "Сидоров", "Олег", phones=("+79035550000",))
    bobs = person(bob, "Sidorov", "Oleg", phones=("+79035550000",))
    services.scan()
    return ivan, mine, other, bobs


def test_a_manager_sees_only_pairs_among_own_clients(alice, bob, helen, queue):
    ivan, mine, other, bobs = queue

    def pairs(user):
        return {(p["a"]["id"], p["b"]["id"]) for p in Api(user).get("/dedup/pairs").json()["items"]}

    assert pairs(alice) == {(ivan.pk, mine.pk)}
    assert pairs(bob) == {(other.pk, bobs.pk)}
    assert pairs(helen) == {(ivan.pk, mine.pk), (other.pk, bobs.pk)}


def test_a_manager_may_not_merge_and_nothing_changes(alice, queue):
    ivan, mine, *_ = queue
    pair = Candidate.objects.get(a=ivan)
    before = snapshot(ivan, mine)
    answer = Api(alice).post(f"/dedup/pairs/{pair.pk}/merge", {"survivor_id": ivan.pk})
    assert answer.status_code == 403
    assert snapshot(ivan, mine) == before and not Merge.objects.exists()


def test_foreign_pair_is_404(carol, queue):
    pair = Candidate.objects.first()
    assert (
        Api(carol).post(f"/dedup/pairs/{pair.pk}/merge", {"survivor_id": pair.a_id}).status_code
        == 404
    )
    assert Api(carol).post(f"/dedup/pairs/{pair.pk}/dismiss").status_code == 404
    assert Candidate.objects.filter(status="open").count() == 2


def test_head_merges_choosing_fields_and_unmerges(helen, queue):
    ivan, mine, *_ = queue
    pair = Candidate.objects.get(a=ivan)
    before = snapshot(ivan, mine)
    body = {"survivor_id": mine.pk, "fields": {"middle_name": "a"}}
    answer = Api(helen).post(f"/dedup/pairs/{pair.pk}/merge", body)
    assert answer.status_code == 200, answer.content
    mine.refresh_from_db()
    assert mine.middle_name == "Петрович"
    assert Client.all_objects.get(pk=ivan.pk).deleted_at is not None
    merge_id = answer.json()["id"]
    assert Api(helen).post(f"/dedup/merges/{merge_id}/unmerge").json()["undone"] is True
    assert snapshot(ivan, mine) == before


def test_merge_with_stale_versions_is_412(helen, queue):
    pair = Candidate.objects.get(a=queue[0])
    body = {"survivor_id": pair.a_id, "versions": {"a": 99, "b": pair.b.version}}
    assert Api(helen).post(f"/dedup/pairs/{pair.pk}/merge", body).status_code == 412
    assert not Merge.objects.exists()


def test_unknown_field_is_422(helen, queue):
    pair = Candidate.objects.get(a=queue[0])
    body = {"survivor_id": pair.a_id, "fields": {"owner__password": "b"}}
    answer = Api(helen).post(f"/dedup/pairs/{pair.pk}/merge", body)
    assert answer.status_code == 422 and not Merge.objects.exists()


def test_dismissed_pair_is_never_proposed_again(alice, queue):
    pair = Candidate.objects.get(a=queue[0])
    assert Api(alice).post(f"/dedup/pairs/{pair.pk}/dismiss").status_code == 204
    services.scan()
    assert Candidate.objects.get(pk=pair.pk).status == "dismissed"
    assert not Candidate.objects.filter(a=pair.a, b=pair.b, status="open").exists()
    assert Api(alice).get("/dedup/pairs").json()["items"] == []


def test_not_a_duplicate_is_not_proposed_on_edit_either(alice, queue):
    ivan, mine, _other, _bobs = queue
    body = {"kind": "person", "last_name": "Рябов", "first_name": "Иван"}
    body |= {"phones": ["+79161234567"], "exclude_id": ivan.pk}
    assert [i["id"] for i in Api(alice).post("/dedup/check", body).json()["items"]] == [mine.pk]
    pair = Candidate.objects.get(a=ivan, b=mine)
    assert Api(alice).post(f"/dedup/pairs/{pair.pk}/dismiss").status_code == 204
    assert Api(alice).post("/dedup/check", body).json()["items"] == []
