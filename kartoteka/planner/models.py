"""The planner: tasks (calls, meetings, e-mails, to-dos), what they are about, their history,
and the reminders the worker delivers."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kartoteka.core.models import TimeStamped, Versioned

MAX_DURATION = 7 * 24 * 60  # minutes


class Task(TimeStamped, Versioned):
    class Kind(models.TextChoices):
        CALL = "call", pgettext_lazy("task kind", "call")
        MEETING = "meeting", pgettext_lazy("task kind", "meeting")
        EMAIL = "email", pgettext_lazy("task kind", "e-mail")
        TODO = "todo", pgettext_lazy("task kind", "to-do")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("task status", "open")
        POSTPONED = "postponed", pgettext_lazy("task status", "postponed")
        DONE = "done", pgettext_lazy("task status", "done")
        CANCELLED = "cancelled", pgettext_lazy("task status", "cancelled")

    class Priority(models.IntegerChoices):
        LOW = 1, pgettext_lazy("priority", "low")
        NORMAL = 2, pgettext_lazy("priority", "normal")
        HIGH = 3, pgettext_lazy("priority", "high")

    class Repeat(models.TextChoices):
        NONE = "", pgettext_lazy("repeat", "does not repeat")
        DAILY = "daily", pgettext_lazy("repeat", "daily")
        WEEKLY = "weekly", pgettext_lazy("repeat", "weekly")
        MONTHLY = "monthly", pgettext_lazy("repeat", "monthly")

    # A task still to be done: open, or postponed to a new date.
    ACTIVE = (Status.OPEN, Status.POSTPONED)

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TODO)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_tasks",
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("participants"),
        blank=True,
        related_name="meetings",
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    # The time the task was planned for before any postponement (repeats count from it).
    planned_at = models.DateTimeField(null=True, blank=True, editable=False)
    duration_minutes = models.PositiveIntegerField(
        _("duration, minutes"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION)],
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    result = models.TextField(_("result"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Minutes before `due_at` at which the assignee (and participants) are reminded.
    remind_minutes = models.PositiveIntegerField(
        _("remind, minutes before"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(60 * 24 * 60)],
    )
    remind_by_email = models.BooleanField(_("remind by e-mail too"), default=False)
    # Recurrence: when an occurrence is closed, the next one is created (see services).
    repeat = models.CharField(
        _("repeat"), max_length=8, choices=Repeat.choices, default=Repeat.NONE, blank=True
    )
    repeat_interval = models.PositiveSmallIntegerField(
        _("every"), default=1, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    repeat_until = models.DateField(_("repeat until"), null=True, blank=True)
    repeat_count = models.PositiveSmallIntegerField(
        _("occurrences"), null=True, blank=True, validators=[MaxValueValidator(1000)]
    )
    series = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    occurrence = models.PositiveSmallIntegerField(default=1)
    # The contact rule that created the task, if a rule did (one open task per client and rule).
    rule = models.ForeignKey(
        "planner.ContactRule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            # "My tasks" and the calendar: an assignee's tasks by due time.
            models.Index(fields=["assignee", "due_at", "id"], name="task_assignee_due"),
            models.Index(fields=["created_by", "due_at"], name="task_creator_due"),
            models.Index(
                fields=["due_at"],
                name="task_active_due",
                condition=Q(status__in=["open", "postponed"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "postponed", "done", "cancelled"]),
                name="task_status_known",
            ),
            models.UniqueConstraint(fields=["series", "occurrence"], name="task_occurrence_once"),
        ]

    # Whose task this is, for the permissions engine: its assignee's and its creator's.
    owner_paths = ("assignee", "created_by")
    permission_kind = "task"

    def __str__(self) -> str:
        return self.title

    @property
    def ends_at(self) -> dt.datetime | None:
        return self.due_at + dt.timedelta(minutes=self.duration_minutes) if self.due_at else None

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class TaskLink(models.Model):
    """What a task is about: one client or one deal per row (a task may have several rows).

    Explicit nullable keys and a check constraint, not a generic foreign key. Merging clients
    moves a client's tasks with one `UPDATE planner_tasklink SET client_id = …`.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="links")
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.CASCADE, related_name="task_links"
    )
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="task_links"
    )

    class Meta:
        indexes = [
            models.Index(fields=["client", "task"], name="tasklink_client"),
            models.Index(fields=["deal", "task"], name="tasklink_deal"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(client__isnull=False) & Q(deal__isnull=True))
                | (Q(client__isnull=True) & Q(deal__isnull=False)),
                name="tasklink_one_target",
            ),
            models.UniqueConstraint(
                fields=["task", "client"],
                condition=Q(client__isnull=False),
                name="tasklink_client_once",
            ),
            models.UniqueConstraint(
                fields=["task", "deal"], condition=Q(deal__isnull=False), name="tasklink_deal_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} -> client {self.client_id} / deal {self.deal_id}"


class TaskChange(models.Model):
    """History as rows: what happened to a task, who did it, and why."""

    class Verb(models.TextChoices):
        CREATED = "created", _("created")
        CHANGED = "changed", _("changed")
        DONE = "done", _("done")
        POSTPONED = "postponed", _("postponed")
        CANCELLED = "cancelled", _("cancelled")
        REOPENED = "reopened", _("reopened")
        RESCHEDULED = "rescheduled", _("rescheduled")
        TAKEN_OVER = "taken_over", _("taken over")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="changes")
    verb = models.CharField(_("what"), max_length=12, choices=Verb.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    from_due = models.DateTimeField(null=True, blank=True)
    to_due = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["task", "-at"], name="taskchange_task"),
            models.Index(fields=["verb", "at"], name="taskchange_verb"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.verb}"


class Reminder(models.Model):
    """One reminder for one user; the worker that flips `sent_at` first delivers it."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    remind_at = models.DateTimeField(_("remind at"))
    by_email = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["remind_at", "id"], name="reminder_due", condition=Q(sent_at__isnull=True)
            ),
            models.Index(fields=["claim"], name="reminder_claim", condition=~Q(claim="")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="reminder_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} for {self.user_id} at {self.remind_at:%Y-%m-%d %H:%M}"


class CalendarFeed(models.Model):
    """A secret address of one user's iCalendar feed. Only the key's hash is kept; a new key
    revokes the old one."""

    PREFIX = "kcal_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=20, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"], name="calendarfeed_user")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.hint}…"


class Absence(models.Model):
    """A user away for a period (holiday, sick leave) and who stands in for them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("absent"),
        on_delete=models.CASCADE,
        related_name="absences",
    )
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("substitute"),
        on_delete=models.CASCADE,
        related_name="substitutions",
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        indexes = [
            models.Index(fields=["substitute", "ends_on", "starts_on"], name="absence_substitute")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="absence_period"
            ),
            models.CheckConstraint(
                condition=~Q(user=models.F("substitute")), name="absence_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.starts_on}–{self.ends_on}"


class ContactRule(models.Model):
    """ "Clients matching these criteria must be contacted every N days (by these kinds)."

    `criteria` is a JSON object of named criteria (see rules.CRITERIA: tags, stage, source,
    kind, owner; other apps may register more, e.g. segments), each a list of allowed values.
    """

    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("in force"), default=True)
    every_days = models.PositiveSmallIntegerField(
        _("every, days"), validators=[MinValueValidator(1), MaxValueValidator(3660)]
    )
    # Interaction kinds that count as a contact; empty: any interaction.
    interaction_kinds = models.JSONField(_("contact by"), default=list, blank=True)
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)
    auto_task = models.BooleanField(_("create tasks automatically"), default=False)
    task_kind = models.CharField(
        _("task kind"), max_length=10, choices=Task.Kind.choices, default=Task.Kind.CALL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("contact rule")
        verbose_name_plural = _("contact rules")

    def __str__(self) -> str:
        return self.name
