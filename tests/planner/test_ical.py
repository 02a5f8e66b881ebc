"""The iCalendar feed behind a secret, revocable address, and .ics invitations to meetings."""

from __future__ import annotations

import re

import icalendar
import pytest
from django.core import mail

from kartoteka.planner import ical, services
from kartoteka.planner.models import CalendarFeed
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_feed_address_shown_once_then_hashed(alice_client, alice, make_task, client):
    make_task(title="Call Acme")
    alice_client.post("/tasks/calendar/subscription/new/")
    page = alice_client.get("/tasks/calendar/subscription/").content.decode()
    url = re.search(r'value="(http[^"]+\.ics)"', page).group(1)
    key = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert CalendarFeed.objects.get().key_hash == ical.key_hash(key) != key
    assert url not in alice_client.get("/tasks/calendar/subscription/").content.decode()
    client.logout()
    answer = client.get(f"/tasks/ical/{key}.ics")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(answer.content)
    summaries = [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]
    assert summaries == ["call: Call Acme"]


def test_revoked_and_unknown_addresses_are_404(alice, client, make_task):
    _feed, key = ical.new_feed(alice)
    assert client.get(f"/tasks/ical/{key}.ics").status_code == 200
    _feed, newer = ical.new_feed(alice)
    assert client.get(f"/tasks/ical/{key}.ics").status_code == 404
    ical.revoke_feeds(alice)
    assert client.get(f"/tasks/ical/{newer}.ics").status_code == 404
    assert client.get("/tasks/ical/kcal_nothing.ics").status_code == 404


def test_feed_holds_only_the_users_tasks(alice, bob, make_task):
    make_task(title="mine")
    make_task(actor=bob, title="bob's")
    meeting = make_task(actor=bob, title="with alice", kind="meeting", participants=[alice])
    body = ical.feed(alice).decode()
    assert "mine" in body and "with alice" in body and "bob's" not in body
    assert f"task-{meeting.pk}@kartoteka" in body


def test_meeting_invitation_carries_an_ics(
    alice, make_task, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    guest = make_user("guest")
    with django_capture_on_commit_callbacks(execute=True):
        task = make_task(title="Kick-off", kind="meeting", participants=[guest])
    (message,) = mail.outbox
    assert message.to == ["guest@example.com"] and "Kick-off" in message.subject
    name, content, mimetype = message.attachments[0]
    assert name == "invite.ics" and mimetype.startswith("text/calendar")
    event = icalendar.Calendar.from_ical(content).walk("VEVENT")[0]
    assert "mailto:guest@example.com" in str(event["ATTENDEE"])
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_task(alice, task, task.version)
    assert "METHOD:CANCEL" in str(mail.outbox[-1].attachments[0][1])


def test_invitations_speak_each_participants_language(
    alice, make_task, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    russian = make_user("ivan", language="ru")
    english = make_user("john", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        make_task(title="Kick-off", kind="meeting", participants=[russian, english])
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects["john@example.com"] == "Invitation: Kick-off"
    assert subjects["ivan@example.com"] == "Приглашение: Kick-off"
    ics = {m.to[0]: str(m.attachments[0][1]) for m in mail.outbox}
    assert "SUMMARY:встреча: Kick-off" in ics["ivan@example.com"]
    assert "SUMMARY:meeting: Kick-off" in ics["john@example.com"]


def test_feed_address_through_the_api(alice, make_task, client):
    from tests.api import Api

    api = Api(alice)
    assert api.get("/calendar/feed").json() == {
        "active": False,
        "hint": None,
        "created_at": None,
        "last_used_at": None,
    }
    made = api.post("/calendar/feed", {})
    assert made.status_code == 201
    url = made.json()["url"]
    assert url.endswith(".ics") and "/tasks/ical/kcal_" in url
    path = url.split("testserver", 1)[1]
    assert client.get(path).status_code == 200
    state = api.get("/calendar/feed").json()
    assert state["active"] and url.rsplit("/", 1)[1].startswith(state["hint"])
    assert state["last_used_at"] is not None
    assert api.delete("/calendar/feed").json() == {"revoked": 1}
    assert client.get(path).status_code == 404
    assert not api.get("/calendar/feed").json()["active"]
