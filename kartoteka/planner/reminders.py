"""Reminders: armed from a task's due time and offset, delivered exactly once.

Delivery claims a batch with one conditional UPDATE (`… SET sent_at = now, claim = token
WHERE id IN (…) AND sent_at IS NULL`): of two workers that picked the same rows, the database
lets one change them and the other changes none. On PostgreSQL the candidates are picked with
`FOR UPDATE SKIP LOCKED`, so two workers take different batches instead of waiting on each
other; SQLite serialises write transactions (IMMEDIATE), and the UPDATE decides there too.
The notifications are written in the same transaction as the claim, so a reminder is either
claimed and notified, or neither; e-mails go out after the commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from kartoteka.core import realtime
from kartoteka.core.bulk import table, write_rows
from kartoteka.core.models import Notification
from kartoteka.planner.models import Reminder, Task

log = logging.getLogger(__name__)
BATCH = 1000


def recipients(task: Task) -> list[int]:
    ids = [task.assignee_id] if task.assignee_id else []
    ids += [pk for pk in task.participants.values_list("pk", flat=True) if pk not in ids]
    return ids


def schedule(task: Task, now: dt.datetime | None = None) -> None:
    """Arm, move or drop a task's reminders to match it (called inside the write)."""
    now = now or timezone.now()
    armed = task.is_active and task.due_at is not None and task.remind_minutes is not None
    if not armed or task.due_at is None or task.due_at < now:
        Reminder.objects.filter(task=task, sent_at__isnull=True).delete()
        return
    remind_at = task.due_at - dt.timedelta(minutes=task.remind_minutes or 0)
    users = recipients(task)
    Reminder.objects.filter(task=task).exclude(user_id__in=users).delete()
    existing = {r.user_id: r for r in Reminder.objects.filter(task=task)}
    changed = [
        r
        for r in existing.values()
        if (r.remind_at, r.by_email) != (remind_at, task.remind_by_email)
    ]
    for reminder in changed:
        reminder.remind_at, reminder.by_email = remind_at, task.remind_by_email
        reminder.sent_at, reminder.claim = None, ""
    Reminder.objects.bulk_update(changed, ["remind_at", "by_email", "sent_at", "claim"])
    Reminder.objects.bulk_create(
        Reminder(task=task, user_id=u, remind_at=remind_at, by_email=task.remind_by_email)
        for u in users
        if u not in existing
    )


def due_exist(now: dt.datetime | None = None) -> bool:
    return Reminder.objects.filter(
        sent_at__isnull=True, remind_at__lte=now or timezone.now()
    ).exists()


def deliver_due(now: dt.datetime | None = None, batch: int = BATCH) -> int:
    """Deliver every reminder due by `now`; returns how many this call delivered."""
    total = 0
    while True:
        picked, delivered = _deliver_batch(now or timezone.now(), batch)
        total += delivered
        if picked == 0:
            return total


class Due(NamedTuple):
    """A claimed reminder as the delivery needs it: plain columns, no model instances (a batch
    is a thousand rows and building instances cost more than the rest of the delivery)."""

    id: int
    user_id: int
    task_id: int
    by_email: bool
    title: str
    due_at: dt.datetime
    language: str
    email: str


COLUMNS = (
    "id",
    "user_id",
    "task_id",
    "by_email",
    "task__title",
    "task__due_at",
    "user__language",
    "user__email",
)


def _deliver_batch(now: dt.datetime, batch: int) -> tuple[int, int]:
    token = secrets.token_hex(16)
    with transaction.atomic():
        due = Reminder.objects.filter(sent_at__isnull=True, remind_at__lte=now).order_by(
            "remind_at", "id"
        )
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:batch])
        if not ids:
            return 0, 0
        Reminder.objects.filter(id__in=ids, sent_at__isnull=True).update(sent_at=now, claim=token)
        mine = [
            Due(*row)
            # By id too: SQLite cannot use the partial index on `claim` for a bound value.
            for row in Reminder.objects.filter(id__in=ids, claim=token)
            .order_by("id")
            .values_list(*COLUMNS)
        ]
        _notify(mine)
    return len(ids), len(mine)


def _texts(claimed: list[Due]) -> dict[int, str]:
    """Each reminder's text in its user's language; the sentence is translated once per
    language and the time formatted once per due time and language."""
    sentences: dict[str, str] = {}
    moments: dict[tuple[dt.datetime, str], str] = {}
    texts = {}
    for reminder in claimed:
        language = reminder.language or settings.LANGUAGE_CODE
        if language not in sentences:
            with translation.override(language):
                sentences[language] = _("Reminder: %(title)s, %(when)s")
        key = (reminder.due_at, language)
        if key not in moments:
            with translation.override(language):
                local = timezone.localtime(reminder.due_at)
                moments[key] = formats.date_format(local, "SHORT_DATETIME_FORMAT")
        text = sentences[language] % {"title": reminder.title, "when": moments[key]}
        texts[reminder.id] = text[:500]
    return texts


def _notify(claimed: list[Due]) -> None:
    if not claimed:
        return
    texts = _texts(claimed)
    link = reverse("planner:task", args=[0]).removesuffix("0/")  # one reverse, not one per row
    # Adapted once for the batch, not once per row by the driver.
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    write_rows(
        table(Notification),
        ["user_id", "text", "link", "created_at"],
        [(r.user_id, texts[r.id], f"{link}{r.task_id}/", now) for r in claimed],
    )
    users = {r.user_id for r in claimed}
    unread = dict(
        Notification.objects.filter(user_id__in=users, read_at__isnull=True)
        .values("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    )
    realtime.publish_many(
        (r.user_id, "notification", {"unread": unread.get(r.user_id, 0), "text": texts[r.id]})
        for r in claimed
    )
    mails = [(texts[r.id], r.email, r.task_id) for r in claimed if r.by_email and r.email]
    if mails:
        transaction.on_commit(lambda: _mail(mails))


def _mail(mails: Iterable[tuple[str, str, int]]) -> None:
    messages = [EmailMessage(text, text + "\n", None, [address]) for text, address, _task in mails]
    try:
        get_connection().send_messages(messages)
    except OSError:
        log.exception("could not send reminder e-mails")
