"""iCalendar: a user's feed behind a secret, revocable address, and meeting invitations.

The feed's key is shown once; only its SHA-256 is stored (as API tokens are). The feed holds
the user's dated tasks from 60 days back to a year ahead, and the meetings they take part in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable

import icalendar
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.core import audit, permissions
from kartoteka.core.permissions import Action
from kartoteka.planner.models import CalendarFeed, Task

log = logging.getLogger(__name__)
PRODID = "-//Kartoteka//Planner//RU"
PAST, AHEAD = dt.timedelta(days=60), dt.timedelta(days=366)
STATUS = {
    Task.Status.OPEN: "CONFIRMED",
    Task.Status.POSTPONED: "CONFIRMED",
    Task.Status.DONE: "CONFIRMED",
    Task.Status.CANCELLED: "CANCELLED",
}


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_feed(user: User) -> tuple[CalendarFeed, str]:
    """A new secret address for `user`'s feed (the old one stops working); the key once."""
    key = CalendarFeed.PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        feed = CalendarFeed.objects.create(
            user=user, key_hash=key_hash(key), hint=key[: len(CalendarFeed.PREFIX) + 6]
        )
        audit.record(user, "token", feed, change="calendar feed created")
    return feed, key


def revoke_feeds(user: User) -> int:
    with transaction.atomic():
        count = CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if count:
            audit.record(user, "token", kind="calendarfeed", target_id=user.pk, change="revoked")
    return count


def user_for_key(key: str) -> User | None:
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(key_hash=key_hash(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None:
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed.user


def _event(task: Task, stamp: dt.datetime) -> icalendar.Event:
    assert task.due_at is not None and task.ends_at is not None
    event = icalendar.Event()
    event.add("uid", f"task-{task.pk}@kartoteka")
    event.add("dtstamp", stamp)
    event.add("dtstart", task.due_at)
    event.add("dtend", task.ends_at)
    event.add("summary", f"{task.get_kind_display()}: {task.title}")
    event.add("sequence", task.version)
    event.add("status", STATUS[Task.Status(task.status)])
    if task.description:
        event.add("description", task.description)
    return event


def feed(user: User, now: dt.datetime | None = None) -> bytes:
    """The user's calendar: their own dated tasks and the meetings they are invited to."""
    now = now or timezone.now()
    mine = permissions.scope(user, Action.VIEW, Task.objects.all()).filter(assignee=user)
    invited = Task.objects.filter(participants=user, kind=Task.Kind.MEETING)
    rows = (
        Task.objects.filter(Q(pk__in=mine.values("pk")) | Q(pk__in=invited.values("pk")))
        .filter(due_at__gte=now - PAST, due_at__lt=now + AHEAD)
        .order_by("due_at", "id")
    )
    calendar = _calendar()
    calendar.add("x-wr-calname", _("Kartoteka: %(user)s") % {"user": user})
    for task in rows.iterator(chunk_size=1000):
        calendar.add_component(_event(task, now))
    return bytes(calendar.to_ical())


def _calendar(method: str | None = None) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    return calendar


def invitation(task: Task, attendees: Iterable[User], cancel: bool = False) -> bytes:
    """A meeting request (or its cancellation) with the organiser and the attendees."""
    calendar = _calendar("CANCEL" if cancel else "REQUEST")
    event = _event(task, timezone.now())
    organiser = task.created_by or task.assignee
    if organiser is not None and organiser.email:
        event.add("organizer", f"mailto:{organiser.email}", parameters={"CN": str(organiser)})
    for person in attendees:
        if person.email:
            event.add(
                "attendee",
                f"mailto:{person.email}",
                parameters={"CN": str(person), "ROLE": "REQ-PARTICIPANT", "RSVP": "TRUE"},
            )
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def send_invitations(task: Task, cancel: bool = False) -> None:
    """E-mail the meeting's participants (and assignee) an .ics, after the write commits, each
    in their own language."""
    if task.kind != Task.Kind.MEETING or task.due_at is None:
        return
    people = list(task.participants.all())
    if task.assignee is not None and task.assignee not in people:
        people.append(task.assignee)
    organiser = getattr(task.created_by, "pk", None)
    by_language: dict[str, list[str]] = {}
    for person in people:
        if person.email and person.pk != organiser:
            language = person.language or settings.LANGUAGE_CODE
            by_language.setdefault(language, []).append(person.email)
    if not by_language:
        return
    method = "CANCEL" if cancel else "REQUEST"
    messages = []
    for language, addresses in by_language.items():
        with translation.override(language):
            body = invitation(task, people, cancel)
            subject = (_("Cancelled: %(title)s") if cancel else _("Invitation: %(title)s")) % {
                "title": task.title
            }
            when = formats.date_format(timezone.localtime(task.due_at), "SHORT_DATETIME_FORMAT")
        text = f"{task.title}\n{when}\n{task.description}".strip() + "\n"
        for address in addresses:
            message = EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [address])
            message.attach("invite.ics", body, f"text/calendar; method={method}")
            messages.append(message)

    def send() -> None:
        try:
            get_connection().send_messages(messages)
        except OSError:
            log.exception("could not send meeting invitations")

    transaction.on_commit(send)
