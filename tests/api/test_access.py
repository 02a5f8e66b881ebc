"""Object-level access: what a user may not see answers 404 (never 403) and changes nothing."""

from __future__ import annotations

import pytest
from django.db.models import Q

from kartoteka.activities.services import log_interaction
from kartoteka.clients import services
from kartoteka.core import permissions
from kartoteka.core.permissions import Action
from tests.api import Api, company, locs, person, snapshot

pytestmark = pytest.mark.django_db


OWNER_PATHS = {"client": "owner", "interaction": "client__owner", "employment": "company__owner"}


def _owner_id(obj):
    for hop in OWNER_PATHS.get(obj._meta.model_name, "owner").split("__")[:-1]:
        obj = getattr(obj, hop)
    return obj.owner_id


@pytest.fixture
def own_records_only(monkeypatch):
    """A rule as roles bring: a user works with the clients they own (or nobody owns)."""
    original_can, original_scope = permissions.can, permissions.scope

    def can(user, action, obj=None, *args, **kwargs):
        if action is Action.REASSIGN:
            return False
        if obj is not None and not isinstance(obj, type) and _owner_id(obj) not in (None, user.pk):
            return False
        return original_can(user, action, obj, *args, **kwargs)

    def scope(user, action, queryset):
        rows = original_scope(user, action, queryset)
        path = OWNER_PATHS.get(queryset.model._meta.model_name)
        if path is None:
            return rows
        return rows.filter(Q(**{f"{path}__isnull": True}) | Q(**{path: user.pk}))

    monkeypatch.setattr(permissions, "can", can)
    monkeypatch.setattr(permissions, "scope", scope)


def test_foreign_records_are_404_and_unchanged(alice, bob, own_records_only):
    theirs = person(owner=bob)
    firm = company(owner=bob)
    job = services.link_person(bob, theirs, firm, "director")
    note = log_interaction(bob, theirs, {"kind": "note"})
    api = Api(alice)
    before = snapshot()
    assert api.get(f"/persons/{theirs.pk}").status_code == 404
    assert api.patch(f"/persons/{theirs.pk}", {"version": 1, "first_name": "X"}).status_code == 404
    assert api.delete(f"/persons/{theirs.pk}").status_code == 404
    assert api.get(f"/persons/{theirs.pk}/timeline").status_code == 404
    assert api.get(f"/companies/{firm.pk}/staff").status_code == 404
    assert api.delete(f"/companies/{firm.pk}/staff/{job.pk}").status_code == 404
    assert api.get(f"/interactions/{note.pk}").status_code == 404
    assert api.patch(f"/interactions/{note.pk}", {"subject": "x"}).status_code == 404
    assert api.delete(f"/interactions/{note.pk}").status_code == 404
    assert snapshot() == before


def test_restoring_someone_elses_trash_is_404(alice, bob, own_records_only):
    theirs = person(owner=bob)
    services.trash_client(bob, theirs)
    before = snapshot()
    assert Api(alice).post(f"/persons/{theirs.pk}/restore").status_code == 404
    assert snapshot() == before


def test_references_to_foreign_records_are_422(alice, bob, own_records_only):
    mine, theirs = company(owner=alice), person(owner=bob)
    api = Api(alice)
    before = snapshot()
    assert locs(api.post(f"/companies/{mine.pk}/staff", {"person_id": theirs.pk})) == [
        ["body", "person_id"]
    ]
    assert locs(api.post("/interactions", {"client_id": theirs.pk, "kind": "note"})) == [
        ["body", "client_id"]
    ]
    assert snapshot() == before


def test_reassigning_without_the_right_is_403_and_unchanged(alice, bob, own_records_only):
    mine = person(owner=alice)
    api = Api(alice)
    before = snapshot()
    response = api.patch(f"/persons/{mine.pk}", {"owner_id": bob.pk}, **{"If-Match": '"1"'})
    assert response.status_code == 403
    assert api.post("/persons", {"last_name": "Новый", "owner_id": bob.pk}).status_code == 403
    assert snapshot() == before
    keep = api.patch(
        f"/persons/{mine.pk}", {"owner_id": alice.pk, "first_name": "А"}, **{"If-Match": '"1"'}
    )
    assert keep.status_code == 200
