"""The planner's pages: my tasks with filters and pages, a task's card and its forms, the
tasks sections of the client and deal cards, and refusals that change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kartoteka.activities.models import Interaction
from kartoteka.planner.models import Task, TaskChange
from tests.planner.conftest import soon

pytestmark = pytest.mark.django_db
LOCAL = "%Y-%m-%dT%H:%M"


def test_my_tasks_lists_todo_soonest_first(alice_client, make_task, bob):
    late = make_task(title="Late call", due_at=timezone.now() - dt.timedelta(hours=3))
    make_task(title="Later call")
    make_task(actor=bob, title="Bob's call")
    page = alice_client.get("/tasks/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("Late call") < html.index("Later call")
    assert "Bob&#x27;s call" not in html and "Bob's call" not in html
    assert f'data-task="{late.pk}"' in html and "table-danger" in html
    overdue = alice_client.get("/tasks/?when=overdue").content.decode()
    assert "Late call" in overdue and "Later call" not in overdue


def test_list_pages_with_a_constant_number_of_queries(
    alice_client, make_task, django_assert_max_num_queries, settings
):
    for i in range(60):
        make_task(title=f"task {i}", due_at=timezone.now() + dt.timedelta(hours=i + 1))
    with django_assert_max_num_queries(13):
        page = alice_client.get("/tasks/")
    assert page.content.decode().count('class="task-row') == 50
    assert "cursor=" in page.content.decode()


def test_create_from_the_client_card(alice_client, alice, acme):
    card = alice_client.get(f"/clients/{acme.pk}/").content.decode()
    assert f"/tasks/client/{acme.pk}/" in card
    section = alice_client.get(f"/tasks/client/{acme.pk}/").content.decode()
    assert f"/tasks/new/?clients={acme.pk}" in section
    form = alice_client.get(f"/tasks/new/?clients={acme.pk}").content.decode()
    assert "Acme" in form
    due = soon().astimezone(timezone.get_current_timezone())
    answer = alice_client.post(
        "/tasks/new/",
        {
            "kind": "call",
            "title": "Call about the invoice",
            "assignee": alice.pk,
            "due_at": due.strftime(LOCAL),
            "duration_minutes": 15,
            "priority": 2,
            "repeat_interval": 1,
            "clients": [acme.pk],
        },
    )
    task = Task.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/tasks/{task.pk}/"
    assert list(task.links.values_list("client_id", flat=True)) == [acme.pk]
    assert (
        "Call about the invoice" in alice_client.get(f"/tasks/client/{acme.pk}/").content.decode()
    )


def test_deal_card_has_its_tasks(alice_client, deal, make_task):
    make_task(title="Send the quote", deals=[deal])
    assert f"/tasks/deal/{deal.pk}/" in alice_client.get(f"/deals/{deal.pk}/").content.decode()
    assert "Send the quote" in alice_client.get(f"/tasks/deal/{deal.pk}/").content.decode()


def test_bad_form_names_the_field(alice_client, alice):
    answer = alice_client.post(
        "/tasks/new/",
        {
            "kind": "call",
            "title": "",
            "assignee": alice.pk,
            "duration_minutes": 0,
            "priority": 2,
            "repeat_interval": 1,
        },
    )
    assert answer.status_code == 422
    html = answer.content.decode()
    assert 'data-field="title"' in html and 'data-field="duration_minutes"' in html
    assert not Task.objects.exists()


def test_done_from_the_card(alice_client, acme, make_task):
    task = make_task(clients=[acme])
    card = alice_client.get(f"/tasks/{task.pk}/").content.decode()
    assert "done-form" in card
    answer = alice_client.post(f"/tasks/{task.pk}/done/", {"version": 1, "done-result": "Reached"})
    assert answer.status_code == 302
    task.refresh_from_db()
    assert task.status == "done" and task.result == "Reached"
    assert Interaction.objects.filter(client=acme, kind="call").count() == 1


def test_postpone_needs_a_reason(alice_client, make_task):
    task = make_task()
    later = (task.due_at + dt.timedelta(days=1)).astimezone(timezone.get_current_timezone())
    answer = alice_client.post(
        f"/tasks/{task.pk}/postpone/", {"version": 1, "postpone-due_at": later.strftime(LOCAL)}
    )
    assert answer.status_code == 422 and 'data-field="reason"' in answer.content.decode()
    task.refresh_from_db()
    assert task.status == "open"
    alice_client.post(
        f"/tasks/{task.pk}/postpone/",
        {"version": 1, "postpone-due_at": later.strftime(LOCAL), "postpone-reason": "Ill"},
    )
    task.refresh_from_db()
    assert task.status == "postponed"
    assert "Ill" in alice_client.get(f"/tasks/{task.pk}/").content.decode()


def test_stale_edit_is_refused(alice_client, alice, make_task):
    task = make_task()
    form = {
        "kind": "call",
        "title": "New title",
        "assignee": alice.pk,
        "duration_minutes": 30,
        "priority": 2,
        "repeat_interval": 1,
    }
    alice_client.post(f"/tasks/{task.pk}/edit/", {**form, "version": 1})
    answer = alice_client.post(f"/tasks/{task.pk}/edit/", {**form, "title": "Lost", "version": 1})
    assert answer.status_code == 422 and "Someone else changed" in answer.content.decode()
    task.refresh_from_db()
    assert task.title == "New title" and task.version == 2


def test_others_tasks_are_404_and_unchanged(client, carol, make_task):
    task = make_task()
    client.force_login(carol)
    for url in (f"/tasks/{task.pk}/", f"/tasks/{task.pk}/edit/"):
        assert client.get(url).status_code == 404
    for verb in ("done", "cancel", "reopen", "postpone"):
        assert client.post(f"/tasks/{task.pk}/{verb}/", {"version": 1}).status_code == 404
    assert client.post(f"/tasks/{task.pk}/edit/", {"title": "x", "version": 1}).status_code == 404
    task.refresh_from_db()
    assert task.status == "open" and task.version == 1
    assert TaskChange.objects.count() == 1


def test_writes_need_post(alice_client, make_task):
    task = make_task()
    assert alice_client.get(f"/tasks/{task.pk}/done/").status_code == 405


def test_link_clients_and_deals_from_the_task_form(alice_client, alice, acme, deal, carol):
    """The form finds clients (and their deals) the user may see and links several of them."""
    from kartoteka.clients import services as client_services

    hidden = client_services.create_client(carol, "company", {"company_name": "Acme Hidden"})
    found = alice_client.get("/tasks/targets/", {"target_q": "Acme"}).content.decode()
    assert f'name="clients" value="{acme.pk}"' in found
    assert f'name="deals" value="{deal.pk}"' in found
    assert f'value="{hidden.pk}"' not in found
    nobody = alice_client.get("/tasks/targets/", {"target_q": "zzzz"}).content.decode()
    assert "Nobody found" in nobody
    task = make_task_via_form(alice_client, alice, clients=[acme.pk, hidden.pk], deals=[deal.pk])
    assert set(task.links.values_list("client_id", "deal_id")) == {(acme.pk, None), (None, deal.pk)}
    edit = alice_client.get(f"/tasks/{task.pk}/edit/").content.decode()
    assert f'id="target-client-{acme.pk}" checked' in edit


def make_task_via_form(http, assignee, **targets):
    due = soon().astimezone(timezone.get_current_timezone())
    answer = http.post(
        "/tasks/new/",
        {
            "kind": "meeting",
            "title": "Linked",
            "assignee": assignee.pk,
            "due_at": due.strftime(LOCAL),
            "duration_minutes": 30,
            "priority": 2,
            "repeat_interval": 1,
            **targets,
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    return Task.objects.get(title="Linked")
