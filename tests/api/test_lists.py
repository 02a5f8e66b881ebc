"""GET /api/v1/persons and /companies: filters, keyset pages, search, constant query counts."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kartoteka.clients import services
from kartoteka.clients.models import CustomField
from tests.api import Api, company, locs, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin) -> Api:
    """An administrator: these tests are about the API, not the role matrix (test_access)."""
    return Api(admin)


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["name"] for c in response.json()["items"]]


def test_lists_are_split_by_kind_and_skip_the_trash(api):
    person(last_name="Андреев")
    company(company_name="Берёза")
    gone = person(last_name="Удалённый")
    services.trash_client(None, gone)
    assert names(api.get("/persons")) == ["Андреев"]
    assert names(api.get("/companies")) == ["Берёза"]


def test_keyset_pages_walk_every_row_once(api):
    for i in range(7):
        person(last_name=f"Фамилия{i:02d}")
    seen, cursor = [], None
    for _ in range(5):
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/persons", params).json()
        seen += [c["name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Фамилия{i:02d}" for i in range(7)]


def test_sort_descending_by_creation(api):
    for name in ("А", "Б", "В"):
        person(last_name=name)
    page = api.get("/persons", {"sort": "-created_at", "limit": 2}).json()
    assert [c["name"] for c in page["items"]] == ["В", "Б"]
    rest = api.get("/persons", {"sort": "-created_at", "limit": 2, "cursor": page["next_cursor"]})
    assert names(rest) == ["А"]


def test_filters(admin, alice, bob):
    api = Api(admin)  # sees every owner's records under any role set-up
    services.create_client(
        admin,
        "person",
        {"last_name": "Своя", "owner": admin, "stage": "customer", "source": "website"},
        tags=["vip"],
    )
    services.create_client(admin, "person", {"last_name": "Чужая", "owner": bob, "stage": "lead"})
    services.create_client(admin, "person", {"last_name": "Ничья", "owner": None})
    assert names(api.get("/persons", {"owner": "me"})) == ["Своя"]
    assert names(api.get("/persons", {"owner": bob.pk})) == ["Чужая"]
    assert names(api.get("/persons", {"owner": "none"})) == ["Ничья"]
    assert names(api.get("/persons", {"tag": "vip"})) == ["Своя"]
    assert names(api.get("/persons", {"stage": "customer"})) == ["Своя"]
    assert names(api.get("/persons", {"source": "website"})) == ["Своя"]
    assert names(api.get("/persons", {"completeness_below": 101})) == ["Ничья", "Своя", "Чужая"]
    today = timezone.localdate().isoformat()
    assert len(names(api.get("/persons", {"created_from": today, "created_to": today}))) == 3
    assert names(api.get("/persons", {"created_to": "2000-01-01"})) == []
    assert len(names(api.get("/persons", {"no_contact_days": 30}))) == 3
    assert names(api.get("/persons", {"contact_from": "2000-01-01"})) == []


def test_custom_field_filter_and_sort(api):
    CustomField.objects.create(key="size", label="Size", type="number")
    services.create_client(None, "company", {"company_name": "Малая"}, custom={"size": 5})
    services.create_client(None, "company", {"company_name": "Большая"}, custom={"size": 500})
    assert names(api.get("/companies", {"cf_size": "500"})) == ["Большая"]
    assert names(api.get("/companies", {"sort": "-custom.size"})) == ["Большая", "Малая"]
    assert locs(api.get("/companies", {"cf_nope": "1"})) == [["query", "cf_nope"]]


@pytest.mark.parametrize(
    "query",
    [
        "рябов",
        "РЯБОВ",
        "Рябов Пётр",
        "петр",
        "8 (916) 123-45-67",
        "+7 916 123 45 67",
        "79161234567",
        "petr@example",
    ],
)
def test_search(api, query):
    services.create_client(
        None,
        "person",
        {"last_name": "Рябов", "first_name": "Пётр"},
        phones=[services.PhoneIn("+79161234567")],
        emails=[services.EmailIn("petr@example.com")],
    )
    person(last_name="Смирнов", phones=("+79035550000",))
    assert names(api.get("/persons", {"q": query})) == ["Рябов Пётр"]


def test_search_by_inn_and_no_cursor_with_search(api):
    company(company_name="Ромашка", inn="7707083893")
    response = api.get("/companies", {"q": "7707083893"})
    assert names(response) == ["Ромашка"] and response.json()["next_cursor"] is None
    assert locs(api.get("/companies", {"q": "Ромашка", "cursor": "WzFd"})) == [["query", "cursor"]]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"_connector": "OR"}, "_connector"),
        ({"owner__password__startswith": "md5"}, "owner__password__startswith"),
        ({"name__regex": ".*"}, "name__regex"),
        ({"kind": "company"}, "kind"),
        ({"sort": "name'; DROP TABLE clients_client; --"}, "sort"),
        ({"sort": 'name")--'}, "sort"),
        ({"sort": "owner__password"}, "sort"),
        ({"owner": "1 OR 1=1"}, "owner"),
        ({"stage": "x" * 5000}, "stage"),
        ({"stage": "nope"}, "stage"),
        ({"created_from": "2020-13-45"}, "created_from"),
        ({"created_from": "UTC')--"}, "created_from"),
        ({"completeness_below": "abc"}, "completeness_below"),
        ({"completeness_below": "10000000000000000000000"}, "completeness_below"),
        ({"no_contact_days": "-1"}, "no_contact_days"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"q": "x" * 5000}, "q"),
    ],
)
def test_bad_filters_are_422_naming_the_key(api, params, field):
    person()
    response = api.get("/persons", params)
    assert ["query", field] in locs(response)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "WzFd",
        "e30",
        "W251bGwsbnVsbF0",
        "x" * 400,
        base64.urlsafe_b64encode(b'["abc", "def"]').decode(),
        base64.urlsafe_b64encode(b"[1e308, 99999999999999999999999999]").decode(),
        base64.urlsafe_b64encode(b'[{"a": 1}, 1]').decode(),
        base64.urlsafe_b64encode(b'["x", true]').decode(),
    ],
)
def test_bad_cursors_are_422_naming_cursor(api, cursor):
    for i in range(3):
        person(last_name=f"П{i}")
    for sort in ("name", "-created_at", "completeness", "-last_contact_at"):
        response = api.get("/persons", {"cursor": cursor, "sort": sort, "limit": 1})
        assert response.status_code in (200, 422), (sort, response.content)
        if response.status_code == 422:
            assert locs(response) == [["query", "cursor"]]


def test_forged_cursor_with_wrong_types_is_422(api):
    person()
    forged = base64.urlsafe_b64encode(b'["not a date", "nope"]').decode().rstrip("=")
    assert locs(api.get("/persons", {"cursor": forged, "sort": "created_at"})) == [
        ["query", "cursor"]
    ]


def _make(n: int, alice) -> None:
    for i in range(n):
        services.create_client(
            None,
            "person",
            {"last_name": f"Л{i:03d}", "owner": alice},
            phones=[services.PhoneIn(f"+7916{i:07d}")],
            emails=[services.EmailIn(f"p{i}@example.com")],
            tags=["a", "b"],
        )


@pytest.mark.parametrize("params", [{}, {"q": "л0"}, {"sort": "-completeness", "tag": "a"}])
def test_list_query_count_is_constant(api, alice, params):
    _make(5, alice)
    api.get("/persons")  # the token's first use writes last_used_at once
    with CaptureQueriesContext(connection) as small:
        assert len(names(api.get("/persons", {"limit": 200, **params}))) == 5
    _make(45, alice)
    with CaptureQueriesContext(connection) as large:
        assert len(names(api.get("/persons", {"limit": 200, **params}))) == 50
    assert len(large.captured_queries) == len(small.captured_queries) <= 15


def test_interaction_list_query_count_is_constant(api, alice):
    from kartoteka.activities.services import log_interaction

    client = person()
    api.get("/persons")  # the token's first use writes last_used_at once
    counts = []
    for n in (5, 45):
        for i in range(n):
            at = timezone.now() - dt.timedelta(hours=i)
            log_interaction(alice, client, {"kind": "note", "summary": f"n{i}", "occurred_at": at})
        with CaptureQueriesContext(connection) as listed:
            assert len(api.get("/interactions", {"limit": 200}).json()["items"]) == n + (
                5 if n > 5 else 0
            )
        with CaptureQueriesContext(connection) as timeline:
            assert api.get(f"/persons/{client.pk}/timeline", {"limit": 200}).status_code == 200
        counts.append((len(listed.captured_queries), len(timeline.captured_queries)))
    assert counts[0] == counts[1] and max(counts[0]) <= 12
