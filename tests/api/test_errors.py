"""Bad input answers 422 naming the field, never a 500, and leaves the database as it was."""

from __future__ import annotations

import pytest

from kartoteka.clients.models import CustomField
from tests.api import Api, company, locs, person, snapshot

pytestmark = pytest.mark.django_db
XSS = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def api(admin) -> Api:
    """An administrator: these tests are about the API, not the role matrix (test_access)."""
    return Api(admin)


@pytest.mark.parametrize(
    "body, loc",
    [
        ({"phones": [{"number": "123"}]}, ["body", "phones", 0, "number"]),
        (
            {"phones": [{"number": "+79161234567"}, {"number": "not a phone"}]},
            ["body", "phones", 1, "number"],
        ),
        ({"phones": [{"number": "+79161234567", "kind": "pager"}]}, ["body", "phones", 0, "kind"]),
        ({"phones": [{"number": "1" * 41}]}, ["body", "phones", 0, "number"]),
        ({"phones": [{"number": 79161234567}]}, ["body", "phones", 0, "number"]),
        ({"phones": [{"e164": "+79161234567"}]}, ["body", "phones", 0, "number"]),
        ({"phones": "+79161234567"}, ["body", "phones"]),
        ({"phones": [{"number": "+79161234567"}] * 21}, ["body", "phones"]),
        ({"emails": [{"email": "not-an-email"}]}, ["body", "emails", 0, "email"]),
        ({"emails": [{"email": "a@b.c", "kind": "x"}]}, ["body", "emails", 0, "kind"]),
        ({"birthday": "1980-02-30"}, ["body", "birthday"]),
        ({"birthday": "yesterday"}, ["body", "birthday"]),
        ({"last_name": "x" * 101}, ["body", "last_name"]),
        ({"last_name": 42}, ["body", "last_name"]),
        ({"last_name": ["a"]}, ["body", "last_name"]),
        ({"last_name": {"$gt": ""}}, ["body", "last_name"]),
        ({"stage": "boss"}, ["body", "stage"]),
        ({"source": "x" * 10_000}, ["body", "source"]),
        ({"address": "x" * 1_000_000}, ["body", "address"]),
        ({"tags": ["x" * 61]}, ["body", "tags"]),
        ({"tags": "vip"}, ["body", "tags"]),
        ({"owner_id": "me"}, ["body", "owner_id"]),
        ({"owner_id": 10**30}, ["body", "owner_id"]),
        ({"custom": {"nope": 1}}, ["body", "custom", "nope"]),
        ({"custom": []}, ["body", "custom"]),
    ],
)
def test_person_bodies_name_the_bad_field(api, body, loc):
    before = snapshot()
    response = api.post("/persons", {"last_name": "Рябов", **body})
    assert loc in locs(response), response.json()
    assert all(e["msg"] for e in response.json()["detail"])
    assert snapshot() == before


@pytest.mark.parametrize(
    "body, loc",
    [
        ({"inn": "7707083890"}, ["body", "inn"]),
        ({"inn": "1234567890123"}, ["body", "inn"]),
        ({"inn": "abc"}, ["body", "inn"]),
        ({"kpp": "12"}, ["body", "kpp"]),
        ({"ogrn": "1027700132194"}, ["body", "ogrn"]),
        ({"website": "javascript:alert(1)"}, ["body", "website"]),
        ({"company_name": ""}, ["body", "company_name"]),
        ({"last_name": "Рябов"}, ["body", "last_name"]),
        ({"company_day": "2020-01-01T10:00:00"}, ["body", "company_day"]),
    ],
)
def test_company_bodies_name_the_bad_field(api, body, loc):
    before = snapshot()
    response = api.post("/companies", {"company_name": "Ромашка", **body})
    assert loc in locs(response), response.json()
    assert snapshot() == before


def test_a_person_without_a_name_is_refused(api):
    assert locs(api.post("/persons", {"middle_name": "Петрович"})) == [["body", "last_name"]]


def test_several_errors_at_once(api):
    response = api.post(
        "/companies",
        {"company_name": "Р", "inn": "1", "phones": [{"number": "x"}], "emails": [{"email": "y"}]},
    )
    assert sorted(map(str, locs(response))) == sorted(
        map(str, [["body", "inn"], ["body", "phones", 0, "number"], ["body", "emails", 0, "email"]])
    )


def test_custom_field_errors_are_named(api):
    CustomField.objects.create(key="size", label="Size", type="number")
    CustomField.objects.create(key="tier", label="Tier", type="choice", choices=["a", "b"])
    response = api.post("/companies", {"company_name": "Р", "custom": {"size": "big", "tier": "z"}})
    assert sorted(map(str, locs(response))) == [
        str(["body", "custom", "size"]),
        str(["body", "custom", "tier"]),
    ]
    ok = api.post("/companies", {"company_name": "Р", "custom": {"size": "1,5", "tier": "a"}})
    assert ok.status_code == 201 and ok.json()["custom"] == {"size": 1.5, "tier": "a"}


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"not json",
        b"[]",
        b'"text"',
        b"null",
        b"123",
        b'{"last_name": "\xff\xfe"}',
        b"\x00\x01",
    ],
)
def test_garbage_bodies_are_422(api, raw):
    before = snapshot()
    response = api.send("post", "/persons", raw, {}, raw=True)
    assert response.status_code == 422, response.content
    assert locs(response)[0][0] == "body"
    assert snapshot() == before


def test_wrong_content_type_is_not_a_500(api):
    response = api.http.post("/api/v1/persons", {"last_name": "X"})  # form-encoded
    assert response.status_code in (400, 415, 422)


def test_a_body_above_the_upload_limit_is_refused(api):
    response = api.send(
        "post", "/persons", b'{"address": "' + b"x" * 3_000_000 + b'"}', {}, raw=True
    )
    assert response.status_code in (400, 413, 422)


def test_patch_errors_change_nothing(api):
    p = person(first_name="Анна", phones=("+79161234567",))
    before = snapshot()
    response = api.patch(
        f"/persons/{p.pk}",
        {"first_name": "Ольга", "phones": [{"number": "bad"}]},
        **{"If-Match": '"1"'},
    )
    assert locs(response) == [["body", "phones", 0, "number"]]
    assert snapshot() == before


def test_external_id_clash_is_422(api):
    person(external_system="1c", external_id="42")
    before = snapshot()
    response = api.post(
        "/persons", {"last_name": "Б", "external_system": "1c", "external_id": "42"}
    )
    assert locs(response) == [["body", "external_id"]]
    assert snapshot() == before


def test_markup_is_stored_as_text_and_returned_as_json(api):
    response = api.post("/persons", {"last_name": XSS, "description": "[x](javascript:alert(1))"})
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["last_name"] == XSS


def test_messages_follow_the_language(api):
    response = api.post("/persons", {"last_name": "x" * 101}, **{"Accept-Language": "en"})
    assert response.json()["detail"][0]["msg"] == "At most 100 characters."
    other = api.post("/companies", {"company_name": "Р", "inn": "1"}, **{"Accept-Language": "en"})
    assert "INN" in other.json()["detail"][0]["msg"]


def test_company_links_cannot_target_self_or_garbage(api):
    c = company()
    before = snapshot()
    assert locs(api.post(f"/companies/{c.pk}/staff", {"person_id": c.pk})) == [
        ["body", "person_id"]
    ]
    assert locs(api.post(f"/companies/{c.pk}/staff", {"person_id": "x"})) == [["body", "person_id"]]
    assert locs(api.post(f"/companies/{c.pk}/staff", {"person_id": 1, "position": "x" * 151})) == [
        ["body", "position"]
    ]
    assert snapshot() == before


@pytest.mark.parametrize(
    "path, body, loc",
    [
        ("/persons", {"last_name": "a\x00b"}, ["body", "last_name"]),
        ("/persons", {"last_name": "a", "tags": ["x\x00"]}, ["body", "tags"]),
        ("/persons", {"last_name": "a", "custom": {"k": "\x00"}}, ["body", "custom"]),
        (
            "/persons",
            {"last_name": "a", "phones": [{"number": "\x00"}]},
            ["body", "phones", 0, "number"],
        ),
        ("/companies", {"company_name": "a", "address": "\x00"}, ["body", "address"]),
    ],
)
def test_nul_characters_are_refused_not_a_500(api, path, body, loc):
    before = snapshot()
    response = api.post(path, body)
    assert locs(response) == [loc]
    assert "NUL" in response.json()["detail"][0]["msg"] or response.json()["detail"][0]["msg"]
    assert snapshot() == before


def test_nul_in_interactions_and_queries(api):
    p = person()
    before = snapshot()
    body = {"client_id": p.pk, "kind": "note", "summary": "x\x00", "items": [{"name": "\x00"}]}
    assert sorted(map(str, locs(api.post("/interactions", body)))) == [
        str(["body", "items"]),
        str(["body", "summary"]),
    ]
    assert locs(api.get("/persons", {"q": "x\x00"})) == [["query", "q"]]
    assert locs(api.get("/persons", {"tag": "\x00"})) == [["query", "tag"]]
    assert locs(api.get("/interactions", {"kind": "\x00"})) == [["query", "kind"]]
    assert snapshot() == before
