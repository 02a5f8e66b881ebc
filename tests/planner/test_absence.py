"""Absence: the substitute sees the absent colleague's planned tasks and the clients behind
them — through the permissions engine — and takes them over in bulk; nothing more."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kartoteka.clients import services as client_services
from kartoteka.core import permissions
from kartoteka.core.permissions import Action
from kartoteka.planner import absence, queries, services
from kartoteka.planner.models import Absence, Task, TaskChange
from tests.api import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def bobs(bob):
    behind = client_services.create_client(bob, "person", {"last_name": "Petrov", "owner": bob})
    other = client_services.create_client(bob, "person", {"last_name": "Sidorov", "owner": bob})
    due = timezone.now() + dt.timedelta(days=1)
    planned = services.create_task(
        bob, {"title": "Call Petrov", "due_at": due}, targets=services.Targets([behind])
    )
    done = services.create_task(bob, {"title": "Old call", "due_at": due})
    services.complete_task(bob, done, done.version)
    return {"behind": behind, "other": other, "planned": planned, "done": done}


def _away(actor, user, substitute, days=(0, 3)):
    today = timezone.localdate()
    return absence.mark_absent(
        actor,
        {
            "user": user,
            "substitute": substitute,
            "starts_on": today + dt.timedelta(days=days[0]),
            "ends_on": today + dt.timedelta(days=days[1]),
        },
    )


def _fresh(user):
    permissions.forget(user)
    return user


def test_substitute_sees_planned_tasks_and_their_clients(alice, bob, bobs, client):
    assert not permissions.can(alice, Action.VIEW, bobs["planned"])
    _away(bob, bob, alice)
    alice = _fresh(alice)
    visible = set(queries.visible_tasks(alice).values_list("title", flat=True))
    assert visible == {"Call Petrov"}
    assert permissions.can(alice, Action.VIEW, bobs["behind"])
    assert not permissions.can(alice, Action.VIEW, bobs["other"])
    assert not permissions.can(alice, Action.EDIT, bobs["behind"])
    client.force_login(alice)
    assert client.get(f"/clients/{bobs['behind'].pk}/").status_code == 200
    assert client.get(f"/clients/{bobs['other'].pk}/").status_code == 404
    assert [t["title"] for t in Api(alice).get("/tasks").json()["items"]] == ["Call Petrov"]


def test_nothing_extra_outside_the_period(alice, bob, bobs):
    _away(bob, bob, alice, days=(2, 4))
    alice = _fresh(alice)
    assert not queries.visible_tasks(alice).exists()
    assert not permissions.can(alice, Action.VIEW, bobs["behind"])


def test_take_over_in_bulk(alice_client, alice, bob, bobs):
    _away(bob, bob, alice)
    page = alice_client.get("/tasks/absences/").content.decode()
    assert "Call Petrov" in page
    alice_client.post("/tasks/absences/take-over/", {"task": [bobs["planned"].pk, bobs["done"].pk]})
    planned = Task.objects.get(pk=bobs["planned"].pk)
    assert planned.assignee == alice and planned.version == 2
    assert Task.objects.get(pk=bobs["done"].pk).assignee == bob  # not planned: untouched
    assert planned.changes.filter(verb=TaskChange.Verb.TAKEN_OVER).exists()


def test_outsider_may_not_mark_or_take(alice, bob, carol, bobs, client):
    with pytest.raises(ValidationError) as info:
        _away(carol, bob, carol)
    assert "user" in info.value.message_dict
    assert not Absence.objects.exists()
    client.force_login(carol)
    client.post("/tasks/absences/take-over/", {"task": [bobs["planned"].pk]})
    assert Task.objects.get(pk=bobs["planned"].pk).assignee == bob


def test_head_marks_a_teammate_absent(helen, alice, bob):
    assert _away(helen, bob, alice).substitute == alice
    with pytest.raises(ValidationError) as info:
        _away(helen, bob, bob)
    assert "substitute" in info.value.message_dict


def test_absence_form_names_bad_fields(alice_client, alice, bob):
    today = timezone.localdate()
    answer = alice_client.post(
        "/tasks/absences/new/",
        {
            "user": alice.pk,
            "substitute": bob.pk,
            "starts_on": today,
            "ends_on": today - dt.timedelta(days=1),
        },
    )
    assert answer.status_code == 422 and 'data-field="ends_on"' in answer.content.decode()
    assert not Absence.objects.exists()


def test_substitute_sees_and_takes_the_meetings_of_the_absent(alice, bob, carol, bobs, client):
    """Bob takes part in Carol's meeting: while he is away Alice sees it and the client behind
    it, and taking it over puts her in his seat (Carol stays the organiser)."""
    behind = client_services.create_client(carol, "person", {"last_name": "Orlov", "owner": carol})
    meeting = services.create_task(
        carol,
        {"title": "Review with Bob", "kind": "meeting", "due_at": timezone.now() + dt.timedelta(1)},
        targets=services.Targets([behind]),
        participants=[bob],
    )
    assert not permissions.can(alice, Action.VIEW, meeting)
    _away(bob, bob, alice)
    alice = _fresh(alice)
    assert permissions.can(alice, Action.VIEW, meeting)
    assert permissions.can(alice, Action.VIEW, behind)
    client.force_login(alice)
    assert "Review with Bob" in client.get("/tasks/absences/").content.decode()
    client.post("/tasks/absences/take-over/", {"task": [meeting.pk, bobs["planned"].pk]})
    meeting.refresh_from_db()
    assert meeting.assignee == carol and set(meeting.participants.all()) == {alice}
    assert meeting.changes.filter(verb=TaskChange.Verb.TAKEN_OVER).exists()
    assert Task.objects.get(pk=bobs["planned"].pk).assignee == alice


def test_a_participant_may_not_take_the_meeting_over(alice, carol, client):
    """Seeing a meeting as its participant is not standing in for its organiser."""
    meeting = services.create_task(
        carol,
        {"title": "Carol's", "kind": "meeting", "due_at": timezone.now() + dt.timedelta(1)},
        participants=[alice],
    )
    assert not absence.planned_for(_fresh(alice)).exists()
    client.force_login(alice)
    client.post("/tasks/absences/take-over/", {"task": [meeting.pk]})
    meeting.refresh_from_db()
    assert meeting.assignee == carol and meeting.version == 1
