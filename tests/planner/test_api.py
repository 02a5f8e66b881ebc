"""/api/v1/tasks and /api/v1/calendar: CRUD, status changes, filters, keyset pages, refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kartoteka.activities.models import Interaction
from kartoteka.planner.models import Task, TaskChange, TaskLink
from kartoteka.planner.schemas import EventList
from tests.api import Api
from tests.planner.conftest import soon

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(alice) -> Api:
    return Api(alice)


def _snapshot() -> tuple:
    return (
        list(Task.objects.values_list("id", "title", "status", "version", "assignee_id")),
        TaskLink.objects.count(),
        TaskChange.objects.count(),
    )


def test_create_read_and_list(api, alice, acme, deal):
    due = soon()
    body = {
        "title": "Call Acme",
        "kind": "call",
        "due_at": due.isoformat(),
        "client_ids": [acme.pk],
        "deal_ids": [deal.pk],
        "priority": 3,
    }
    created = api.post("/tasks", body)
    assert created.status_code == 201, created.json()
    task = created.json()
    assert task["assignee"]["id"] == alice.pk and task["priority"] == 3
    assert {(k["client_id"], k["deal_id"]) for k in task["links"]} == {
        (acme.pk, None),
        (None, deal.pk),
    }
    assert created["ETag"] == '"1"'
    read = api.get(f"/tasks/{task['id']}").json()
    assert read["history"][0]["verb"] == "created"
    listed = api.get("/tasks", {"client_id": acme.pk}).json()
    assert [t["id"] for t in listed["items"]] == [task["id"]]


def test_list_filters_and_keyset(api, make_task):
    now = timezone.now()
    late = make_task(title="late", due_at=now - dt.timedelta(hours=2))
    tasks = [make_task(title=f"t{i}", due_at=now + dt.timedelta(hours=i + 1)) for i in range(5)]
    assert [t["id"] for t in api.get("/tasks", {"when": "overdue"}).json()["items"]] == [late.pk]
    first = api.get("/tasks", {"limit": 4}).json()
    second = api.get("/tasks", {"limit": 4, "cursor": first["next_cursor"]}).json()
    ids = [t["id"] for t in first["items"] + second["items"]]
    assert ids == [late.pk, *[t.pk for t in tasks]]
    assert second["next_cursor"] is None
    assert api.get("/tasks", {"when": "yesterday"}).status_code == 422
    assert api.get("/tasks", {"x__regex": "a"}).json()["detail"][0]["loc"] == ["query", "x__regex"]
    assert api.get("/tasks", {"cursor": "garbage"}).status_code == 422


def test_done_with_result_logs_the_call(api, alice, acme, make_task):
    task = make_task(clients=[acme])
    answer = api.post(
        f"/tasks/{task.pk}/done", {"result": "Will pay on Friday"}, **{"If-Match": '"1"'}
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "done"
    assert Interaction.objects.get(client=acme).summary == "Will pay on Friday"


def test_postpone_cancel_reopen(api, make_task):
    task = make_task()
    later = (task.due_at + dt.timedelta(days=2)).isoformat()
    answer = api.post(
        f"/tasks/{task.pk}/postpone", {"due_at": later, "reason": "Away", "version": 1}
    )
    assert answer.json()["status"] == "postponed"
    assert answer.json()["history"][0]["reason"] == "Away"
    assert api.post(f"/tasks/{task.pk}/cancel", {"version": 2}).json()["status"] == "cancelled"
    assert api.post(f"/tasks/{task.pk}/reopen", {"version": 3}).json()["status"] == "open"


def test_patch_needs_the_version(api, make_task):
    task = make_task()
    before = _snapshot()
    assert api.patch(f"/tasks/{task.pk}", {"title": "x"}).status_code == 428
    stale = api.patch(f"/tasks/{task.pk}", {"title": "x", "version": 7})
    assert stale.status_code == 412 and stale.json()["current_version"] == 1
    assert _snapshot() == before
    ok = api.patch(f"/tasks/{task.pk}", {"title": "Call twice"}, **{"If-Match": '"1"'})
    assert ok.json()["title"] == "Call twice" and ok["ETag"] == '"2"'


def test_mass_assignment_and_bad_input_are_refused(api, make_task):
    before = _snapshot()
    for key in ("created_by", "status", "version", "owner_id", "series", "closed_at"):
        answer = api.post("/tasks", {"title": "x", key: 1})
        assert answer.status_code == 422, key
        assert answer.json()["detail"][0]["loc"] == ["body", key]
    assert api.post("/tasks", {"title": "x", "kind": "dance"}).json()["detail"][0]["loc"] == [
        "body",
        "kind",
    ]
    assert api.post("/tasks", {"title": "x", "duration_minutes": 0}).status_code == 422
    assert api.post("/tasks", {"title": "x", "repeat": "daily"}).json()["detail"][0]["loc"] == [
        "body",
        "due_at",
    ]
    assert _snapshot() == before


def test_others_tasks_answer_404_and_change_nothing(api, carol, make_task, acme):
    theirs = make_task(actor=carol, title="Carol's")
    before = _snapshot()
    assert api.get(f"/tasks/{theirs.pk}").status_code == 404
    assert api.patch(f"/tasks/{theirs.pk}", {"title": "x", "version": 1}).status_code == 404
    assert api.post(f"/tasks/{theirs.pk}/done", {"version": 1}).status_code == 404
    assert api.post(f"/tasks/{theirs.pk}/cancel", {"version": 1}).status_code == 404
    assert theirs.pk not in [t["id"] for t in api.get("/tasks").json()["items"]]
    carol_api = Api(carol)
    hidden = carol_api.post("/tasks", {"title": "x", "client_ids": [acme.pk]})
    assert hidden.status_code == 422 and hidden.json()["detail"][0]["loc"] == ["body", "client_ids"]
    assert _snapshot() == before


def test_head_sees_the_teams_tasks(helen, alice, make_task, carol):
    mine = make_task(title="alice's")
    make_task(actor=carol, title="carol's")
    items = Api(helen).get("/tasks").json()["items"]
    assert [t["id"] for t in items] == [mine.pk]


def test_calendar_range_and_people(api, alice, bob, helen, make_task, client):
    start = timezone.now().replace(microsecond=0)
    mine = make_task(title="mine", due_at=start + dt.timedelta(hours=1))
    make_task(actor=bob, title="bob's", due_at=start + dt.timedelta(hours=2))
    params = {"start": start.isoformat(), "end": (start + dt.timedelta(days=7)).isoformat()}
    items = api.get("/calendar", params).json()["items"]
    assert [e["id"] for e in items] == [mine.pk]
    assert items[0]["editable"] is True
    # Encoded without the schema's validation (thousands of events), yet in its shape.
    assert EventList.model_validate({"items": items}).items[0].start == mine.due_at
    assert items[0]["start"].endswith("Z") and items[0]["assignee"]["id"] == alice.pk
    client.force_login(alice)
    assert client.get("/tasks/calendar/events/", params).json()["items"] == items
    # A manager sees their own tasks only: a colleague's calendar is not theirs to open.
    assert api.get("/calendar", {**params, "user": str(bob.pk)}).status_code == 422
    team = Api(helen).get("/calendar", {**params, "user": "team"}).json()["items"]
    assert {e["title"] for e in team} == {"mine", "bob's"}
    assert api.get("/calendar", {**params, "user": "team"}).status_code == 200
    wrong = api.get("/calendar", {**params, "end": params["start"]})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["query", "end"]
    assert api.get("/calendar", {**params, "user": "99999"}).status_code == 422


def test_a_meeting_shows_in_its_participants_calendar_and_opens_for_them(
    api, alice, carol, make_task
):
    """Carol is outside alice's team: invited to the meeting, she sees it and nothing else."""
    start = timezone.now().replace(microsecond=0)
    meeting = make_task(
        title="kick-off", kind="meeting", due_at=start + dt.timedelta(hours=1), participants=[carol]
    )
    make_task(title="alice alone", due_at=start + dt.timedelta(hours=2))
    params = {"start": start.isoformat(), "end": (start + dt.timedelta(days=7)).isoformat()}
    items = Api(carol).get("/calendar", params).json()["items"]
    assert [(e["id"], e["editable"]) for e in items] == [(meeting.pk, False)]
    assert [e["id"] for e in api.get("/calendar", params).json()["items"]] == [
        meeting.pk,
        meeting.pk + 1,
    ]
    assert Api(carol).get(f"/tasks/{meeting.pk}").status_code == 200
    assert Api(carol).get(f"/tasks/{meeting.pk + 1}").status_code == 404
