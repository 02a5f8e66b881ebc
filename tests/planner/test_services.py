"""Tasks through the services: create, change with a version, done (logged on the timeline),
postponed (history rows), cancelled, repeating, and the refusals that change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kartoteka.activities.models import Interaction
from kartoteka.core.errors import StaleVersion
from kartoteka.core.permissions import Denied
from kartoteka.planner import queries, services
from kartoteka.planner.models import Task, TaskChange, TaskLink
from tests.planner.conftest import soon


def test_create_links_clients_and_deals(alice, acme, deal, make_task):
    task = make_task(clients=[acme], deals=[deal])
    assert task.assignee == alice and task.created_by == alice
    assert {(k.client_id, k.deal_id) for k in task.links.all()} == {
        (acme.pk, None),
        (None, deal.pk),
    }
    assert task.changes.get().verb == TaskChange.Verb.CREATED


def test_link_needs_exactly_one_target(make_task, acme, deal):
    task = make_task()
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskLink.objects.create(task=task, client=acme, deal=deal)
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskLink.objects.create(task=task)


def test_done_call_logs_a_call_on_the_clients_timeline(alice, acme, deal, make_task):
    task = make_task(clients=[acme], deals=[deal])
    services.complete_task(alice, task, task.version, "Agreed on a meeting")
    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.closed_at is not None
    call = Interaction.objects.get(client=acme)  # one, though the deal is acme's too
    assert call.kind == Interaction.Kind.CALL
    assert call.summary == "Agreed on a meeting" and call.author == alice
    acme.refresh_from_db()
    assert acme.last_contact_at is not None


def test_done_todo_logs_nothing(alice, acme, make_task):
    task = make_task(clients=[acme], kind="todo")
    services.complete_task(alice, task, task.version, "ok")
    assert not Interaction.objects.exists()


def test_postpone_keeps_history(alice, make_task):
    task = make_task()
    first_due = task.due_at
    later = first_due + dt.timedelta(days=1)
    services.postpone_task(alice, task, task.version, later, "Client on holiday")
    task.refresh_from_db()
    assert task.status == Task.Status.POSTPONED and task.due_at == later
    row = task.changes.filter(verb=TaskChange.Verb.POSTPONED).get()
    assert (row.from_due, row.to_due, row.reason) == (first_due, later, "Client on holiday")


def test_postpone_needs_a_reason_and_a_later_date(alice, make_task):
    task = make_task()
    with pytest.raises(ValidationError) as info:
        services.postpone_task(alice, task, task.version, task.due_at, "")
    assert "reason" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        services.postpone_task(alice, task, task.version, task.due_at, "because")
    assert "due_at" in info.value.message_dict
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN and task.version == 1


def test_stale_version_is_refused(alice, make_task):
    task = make_task()
    services.update_task(alice, task, 1, {"title": "Call back twice"})
    with pytest.raises(StaleVersion):
        services.update_task(alice, task, 1, {"title": "Lost update"})
    task.refresh_from_db()
    assert task.title == "Call back twice" and task.version == 2


def test_others_may_not_change_my_task(alice, carol, make_task):
    task = make_task()
    with pytest.raises(Denied):
        services.complete_task(carol, task, task.version, "")
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN and task.version == 1


def test_assign_to_a_teammate_not_to_an_outsider(alice, bob, carol, make_task):
    assert make_task(assignee=bob).assignee == bob
    with pytest.raises(ValidationError) as info:
        make_task(assignee=carol)
    assert "assignee" in info.value.message_dict
    assert not Task.objects.filter(assignee=carol).exists()


def test_hidden_client_is_refused(carol, acme, make_task):
    with pytest.raises(ValidationError) as info:
        make_task(actor=carol, clients=[acme])
    assert "clients" in info.value.message_dict
    assert not Task.objects.exists()


def test_bad_fields_are_named(make_task):
    with pytest.raises(ValidationError) as info:
        make_task(title="  ", duration_minutes=0, kind="dance")
    assert {"title", "duration_minutes", "kind"} <= set(info.value.message_dict)
    with pytest.raises(ValidationError) as info:
        make_task(owner=1)
    assert "owner" in info.value.message_dict


def test_overdue_is_computed(alice, make_task):
    past = make_task(title="late", due_at=timezone.now() - dt.timedelta(hours=1))
    make_task(title="soon")
    done = make_task(title="late but done", due_at=timezone.now() - dt.timedelta(hours=1))
    services.complete_task(alice, done, done.version)
    overdue = queries.when(queries.visible_tasks(alice), "overdue")
    assert list(overdue) == [past]


def test_weekly_repeat_creates_the_next_occurrence(alice, acme, make_task):
    task = make_task(clients=[acme], repeat="weekly", repeat_interval=2, repeat_count=3)
    services.complete_task(alice, task, task.version)
    second = Task.objects.get(series=task)
    assert second.occurrence == 2 and second.due_at == task.due_at + dt.timedelta(weeks=2)
    assert second.status == Task.Status.OPEN
    assert list(second.links.values_list("client_id", flat=True)) == [acme.pk]
    services.cancel_task(alice, second, second.version)
    third = Task.objects.get(series=task, occurrence=3)
    services.complete_task(alice, third, third.version)
    assert Task.objects.count() == 3  # the count is reached


def test_monthly_repeat_keeps_the_day_and_stops_at_until(alice, make_task):
    start = timezone.make_aware(dt.datetime(2031, 1, 31, 10, 0))
    task = make_task(due_at=start, repeat="monthly", repeat_until=dt.date(2031, 3, 31))
    services.complete_task(alice, task, task.version)
    feb = Task.objects.get(occurrence=2)
    assert timezone.localtime(feb.due_at).date() == dt.date(2031, 2, 28)
    services.complete_task(alice, feb, feb.version)
    march = Task.objects.get(occurrence=3)
    assert timezone.localtime(march.due_at).date() == dt.date(2031, 3, 31)
    services.complete_task(alice, march, march.version)
    assert not Task.objects.filter(occurrence=4).exists()


def test_repeat_needs_a_due_date(make_task):
    with pytest.raises(ValidationError) as info:
        make_task(due_at=None, repeat="daily")
    assert "due_at" in info.value.message_dict


def test_closed_task_cannot_be_closed_again(alice, make_task):
    task = make_task()
    task = services.complete_task(alice, task, task.version)
    with pytest.raises(ValidationError):
        services.cancel_task(alice, task, task.version)
    task = services.reopen_task(alice, task, task.version)
    assert task.status == Task.Status.OPEN


def test_reschedule_moves_the_due_time(alice, make_task):
    task = make_task()
    later = soon(5)
    moved = services.reschedule_task(alice, task, 1, later, 45)
    assert moved.due_at == later and moved.duration_minutes == 45 and moved.version == 2
    assert task.changes.filter(verb=TaskChange.Verb.RESCHEDULED).exists()
