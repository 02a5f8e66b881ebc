"""Random garbage at every write and list endpoint: never a 500, never a change on refusal."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartoteka.activities.services import log_interaction
from tests.api import Api, company, person, snapshot

pytestmark = pytest.mark.django_db
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PERSON_KEYS = [
    "last_name",
    "first_name",
    "birthday",
    "phones",
    "emails",
    "tags",
    "custom",
    "owner_id",
    "stage",
    "source",
    "version",
    "owner",
    "is_superuser",
    "external_id",
]
COMPANY_KEYS = ["company_name", "inn", "kpp", "ogrn", "website", "company_day", "phones", "tags"]
INTERACTION_KEYS = [
    "client_id",
    "kind",
    "occurred_at",
    "amount",
    "currency",
    "items",
    "duration_seconds",
    "direction",
    "channel",
    "subject",
    "complaint_status",
]
FILTER_KEYS = [
    "q",
    "owner",
    "tag",
    "stage",
    "source",
    "completeness_below",
    "created_from",
    "contact_to",
    "no_contact_days",
    "sort",
    "cursor",
    "limit",
    "_connector",
    "cf_x",
]

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
SCALAR = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | TEXT
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
PHONE = st.fixed_dictionaries({"number": TEXT | SCALAR}, optional={"kind": TEXT})


def bodies(keys: list[str]) -> st.SearchStrategy[dict]:
    special = {"phones": st.lists(PHONE, max_size=3), "birthday": TEXT, "occurred_at": TEXT}
    return st.fixed_dictionaries(
        {}, optional={k: special.get(k, VALUE) if k in special else VALUE for k in keys}
    )


@pytest.fixture
def api(admin) -> Api:
    """An administrator: these tests are about the API, not the role matrix (test_access)."""
    return Api(admin)


def _no_500(response) -> None:
    assert response.status_code < 500, response.content
    if response.status_code == 422:
        assert all(e["loc"] and e["msg"] for e in response.json()["detail"])


@FUZZ
@given(body=bodies(PERSON_KEYS))
def test_fuzz_person_create_and_patch(api, body):
    p = person()
    before = snapshot()
    created = api.post("/persons", body)
    _no_500(created)
    patched = api.patch(f"/persons/{p.pk}", body, **{"If-Match": f'"{p.version}"'})
    _no_500(patched)
    if created.status_code >= 400 and patched.status_code >= 400:
        assert snapshot() == before


@FUZZ
@given(body=bodies(COMPANY_KEYS))
def test_fuzz_company_create(api, body):
    before = snapshot()
    response = api.post("/companies", body)
    _no_500(response)
    if response.status_code >= 400:
        assert snapshot() == before


@FUZZ
@given(body=bodies(INTERACTION_KEYS))
def test_fuzz_interactions(api, alice, body):
    row = log_interaction(alice, person(), {"kind": "note"})
    before = snapshot()
    created = api.post("/interactions", body)
    _no_500(created)
    patched = api.patch(f"/interactions/{row.pk}", body)
    _no_500(patched)
    if created.status_code >= 400 and patched.status_code >= 400:
        assert snapshot() == before


@FUZZ
@given(params=st.dictionaries(st.sampled_from(FILTER_KEYS) | TEXT, TEXT, max_size=4))
def test_fuzz_list_filters(api, params):
    person(phones=("+79161234567",))
    company()
    for path in ("/persons", "/companies", "/interactions"):
        _no_500(api.get(path, params))
