"""Reminders: armed from the due time and offset, moved with the task, delivered once — in the
app (a notification and a live event) and by e-mail — even with two dispatchers at once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from kartoteka.core.models import Notification, RealtimeEvent
from kartoteka.planner import reminders, services, tasks
from kartoteka.planner.models import Reminder, Task
from tests.conftest import make_user
from tests.planner.conftest import soon


def test_reminder_is_armed_for_assignee_and_participants(alice, bob, make_task):
    task = make_task(kind="meeting", remind_minutes=15, participants=[bob])
    rows = {r.user_id: r.remind_at for r in Reminder.objects.filter(task=task)}
    assert rows == {alice.pk: task.due_at - dt.timedelta(minutes=15), bob.pk: rows[bob.pk]}


def test_reminder_follows_the_task(alice, make_task):
    task = make_task(remind_minutes=10)
    later = soon(30)
    services.reschedule_task(alice, task, task.version, later)
    assert Reminder.objects.get().remind_at == later - dt.timedelta(minutes=10)
    task.refresh_from_db()
    services.complete_task(alice, task, task.version)
    assert not Reminder.objects.exists()


def test_due_reminders_are_delivered_once(
    alice, make_task, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    task = make_task(title="Call Acme", remind_minutes=60, remind_by_email=True, due_at=soon(0.5))
    assert not Notification.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.deliver_due() == 1
    note = Notification.objects.get(user=alice)
    assert "Call Acme" in note.text and note.link == f"/tasks/{task.pk}/"
    assert reminders.deliver_due() == 0
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1 and "Call Acme" in mail.outbox[0].subject
    assert Reminder.objects.get().sent_at is not None


def test_delivery_publishes_the_unread_count(alice, make_task, django_capture_on_commit_callbacks):
    make_task(remind_minutes=60, due_at=soon(0.5))
    with django_capture_on_commit_callbacks(execute=True):
        reminders.deliver_due()
    event = RealtimeEvent.objects.get(user_id=alice.pk)
    assert event.event == "notification" and event.data["unread"] == 1


def test_not_yet_due_is_not_delivered(make_task):
    make_task(remind_minutes=15, due_at=soon(3))
    assert reminders.deliver_due() == 0
    assert not Notification.objects.exists()


def test_the_loser_of_a_race_claims_nothing(alice, make_task):
    """Two dispatchers read the same candidates; the conditional UPDATE lets one win."""
    make_task(remind_minutes=60, due_at=soon(0.5))
    now = timezone.now()
    assert reminders._deliver_batch(now, 10) == (1, 1)
    Reminder.objects.update(sent_at=now)  # still claimed, as the loser would find it
    assert reminders._deliver_batch(now, 10) == (0, 0)
    assert Notification.objects.count() == 1


def test_the_fast_tick_enqueues_only_when_due(make_task):
    assert tasks.enqueue_reminders_if_due() is False
    make_task(remind_minutes=60, due_at=soon(0.5))
    assert tasks.enqueue_reminders_if_due() is True  # the immediate backend delivers at once
    assert Notification.objects.count() == 1
    assert tasks.enqueue_reminders_if_due() is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need a real server")
def test_two_dispatchers_deliver_each_reminder_exactly_once():
    users = [make_user(f"user{i}") for i in range(5)]
    due = timezone.now() + dt.timedelta(minutes=5)
    for i in range(300):
        user = users[i % 5]
        services.create_task(user, {"title": f"t{i}", "due_at": due, "remind_minutes": 30})
    assert Reminder.objects.count() == 300
    delivered: list[int] = []
    barrier = threading.Barrier(2)

    def dispatch() -> None:
        try:
            barrier.wait()
            delivered.append(reminders.deliver_due(batch=20))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(delivered) == 300
    assert Notification.objects.count() == 300
    assert not Reminder.objects.filter(sent_at__isnull=True).exists()
    links = Notification.objects.values_list("link", flat=True)
    assert len(set(links)) == 300  # none twice
    Task.objects.all().delete()
