"""Calls, operators and their statuses, the ledger of telephony events already applied."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kartoteka.core.models import SoftDeletable, TimeStamped, Versioned


class Disposition(models.Model):
    """A result an operator picks for a call ("sale", "wrong number", …); admins edit the list."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("call result")
        verbose_name_plural = _("call results")

    def __str__(self) -> str:
        return self.name


class BreakReason(models.Model):
    """Why an operator is on a break ("lunch", "training", …); admins edit the list."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    limit_minutes = models.PositiveSmallIntegerField(
        _("limit, minutes"), null=True, blank=True, validators=[MaxValueValidator(24 * 60)]
    )
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("break reason")
        verbose_name_plural = _("break reasons")

    def __str__(self) -> str:
        return self.name


class Queue(models.Model):
    """A PBX queue by its name there; missed calls of unknown callers go to its callback user."""

    name = models.CharField(_("name in the PBX"), max_length=80, unique=True)
    callback_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("calls back missed calls"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")

    def __str__(self) -> str:
        return self.name


class Operator(SoftDeletable, Versioned):
    """A user who takes calls at an extension, with the status the board shows.

    Removing an operator who has calls or status history stamps `deleted_at` instead of deleting:
    the calls and the KPIs keep their operator, the extension is free for someone else, and
    adding the same user again brings the row back."""

    class Status(models.TextChoices):
        AVAILABLE = "available", pgettext_lazy("operator status", "available")
        RINGING = "ringing", pgettext_lazy("operator status", "ringing")
        ON_CALL = "on_call", pgettext_lazy("operator status", "on a call")
        AFTER_CALL = "after_call", pgettext_lazy("operator status", "after-call work")
        BREAK = "break", pgettext_lazy("operator status", "break")
        OFFLINE = "offline", pgettext_lazy("operator status", "offline")

    # Statuses an operator picks; the others come from calls and timers.
    CHOSEN = (Status.AVAILABLE, Status.BREAK, Status.OFFLINE)

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="operator",
    )
    extension = models.CharField(_("extension"), max_length=40)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OFFLINE
    )
    since = models.DateTimeField(_("since"))
    break_reason = models.ForeignKey(
        BreakReason, verbose_name=_("break reason"), null=True, blank=True, on_delete=models.PROTECT
    )
    # The call that put the operator in ringing / on a call / after-call work.
    call = models.ForeignKey(
        "callcenter.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acw_seconds = models.PositiveIntegerField(
        _("after-call work limit, seconds"),
        default=60,
        validators=[MinValueValidator(0), MaxValueValidator(3600)],
    )
    acw_until = models.DateTimeField(_("after-call work ends"), null=True, blank=True)

    class Meta:
        ordering = ["extension"]
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        indexes = [
            models.Index(
                fields=["acw_until"], name="operator_acw", condition=Q(status="after_call")
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["extension"],
                condition=Q(deleted_at__isnull=True),
                name="operator_extension_live",
            )
        ]

    # Not a kind of the role matrix: who sees an operator follows the "call" scope (see
    # queries.visible_operators), and rows of the "call" kind are calls only.
    owner_paths = ("user",)
    permission_kind = "operator"

    def __str__(self) -> str:
        return f"{self.extension} {self.user}"


class CallbackSettings(Versioned):
    """One row: who calls back a lost call when neither its client, its queue nor its operator
    has anyone (else the administrators and heads, see callbacks.assignee)."""

    default_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("calls back when nobody else does"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("call-back settings")

    def __str__(self) -> str:
        return f"callbacks → {self.default_user_id}"

    @classmethod
    def current(cls) -> CallbackSettings:
        return cls.objects.get_or_create(pk=1)[0]


class OperatorStatusChange(models.Model):
    """History as rows: one interval per status, open until the next change (KPIs read it)."""

    class Source(models.TextChoices):
        OPERATOR = "operator", _("the operator")
        SUPERVISOR = "supervisor", _("a supervisor")
        CALL = "call", _("a call")
        TIMER = "timer", _("a timer")
        PBX = "pbx", _("the PBX")

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="changes")
    status = models.CharField(_("status"), max_length=10, choices=Operator.Status.choices)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("to"), null=True, blank=True)
    source = models.CharField(_("set by"), max_length=10, choices=Source.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    break_reason = models.ForeignKey(
        BreakReason, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    call = models.ForeignKey(
        "callcenter.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("operator status change")
        verbose_name_plural = _("operator status history")
        indexes = [
            models.Index(fields=["operator", "-started_at"], name="status_change_operator"),
            models.Index(fields=["started_at"], name="status_change_time"),
            # KPIs: the rows still running at a period's start (occupancy).
            models.Index(fields=["ended_at"], name="status_change_end"),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.status} {self.started_at:%H:%M:%S}"


class Call(TimeStamped, Versioned):
    """One call as the PBX reported it and the operator completed it (the call card)."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("inbound")
        OUTBOUND = "out", _("outbound")

    class Status(models.TextChoices):
        RINGING = "ringing", pgettext_lazy("call status", "ringing")
        QUEUED = "queued", pgettext_lazy("call status", "waiting in a queue")
        ANSWERED = "answered", pgettext_lazy("call status", "in progress")
        ENDED = "ended", pgettext_lazy("call status", "ended")
        MISSED = "missed", pgettext_lazy("call status", "missed")
        ABANDONED = "abandoned", pgettext_lazy("call status", "abandoned")
        UNANSWERED = "unanswered", pgettext_lazy("call status", "not answered")

    LIVE = (Status.RINGING, Status.QUEUED, Status.ANSWERED)
    LOST = (Status.MISSED, Status.ABANDONED)

    provider = models.CharField(_("provider"), max_length=20)
    call_id = models.CharField(_("call id in the PBX"), max_length=150)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.INBOUND
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RINGING
    )
    caller = models.CharField(_("caller number"), max_length=80, blank=True)
    caller_e164 = models.CharField(_("caller"), max_length=16, blank=True)
    callee = models.CharField(_("called number"), max_length=80, blank=True)
    callee_e164 = models.CharField(_("called"), max_length=16, blank=True)
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    operator = models.ForeignKey(
        Operator,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    # The operator's user, kept on the row: the permissions engine and lists read it directly.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    extension = models.CharField(_("extension"), max_length=40, blank=True)
    queue = models.CharField(_("queue"), max_length=80, blank=True)
    ivr = models.JSONField(_("IVR choices"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=100, blank=True)
    disposition = models.ForeignKey(
        Disposition,
        verbose_name=_("result"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calls",
    )
    summary = models.TextField(_("summary"), blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    interaction = models.OneToOneField(
        "activities.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A missed or abandoned call becomes a task to call back; when it was done is measured.
    callback_task = models.ForeignKey(
        "planner.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    called_back_at = models.DateTimeField(_("called back"), null=True, blank=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [
            models.Index(fields=["-started_at", "-id"], name="call_recent"),
            models.Index(fields=["user", "-started_at"], name="call_user_recent"),
            models.Index(fields=["client", "-started_at"], name="call_client"),
            models.Index(fields=["caller_e164", "started_at"], name="call_caller"),
            models.Index(fields=["callee_e164", "started_at"], name="call_callee"),
            models.Index(fields=["queue"], name="call_waiting", condition=Q(status="queued")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["provider", "call_id"], name="call_provider_id_unique"),
        ]

    owner_paths = ("user",)
    permission_kind = "call"

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.caller or self.callee} {self.started_at}"

    @property
    def number(self) -> str:
        """The other party's number: the caller of an inbound call, the callee of an outbound."""
        if self.direction == self.Direction.INBOUND:
            return self.caller_e164 or self.caller
        return self.callee_e164 or self.callee

    @property
    def number_e164(self) -> str:
        return self.caller_e164 if self.direction == self.Direction.INBOUND else self.callee_e164

    @property
    def wait_seconds(self) -> int | None:
        end = self.answered_at or self.ended_at
        return max(0, int((end - self.started_at).total_seconds())) if end else None

    @property
    def talk_seconds(self) -> int | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return max(0, int((self.ended_at - self.answered_at).total_seconds()))

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE


class ProcessedEvent(models.Model):
    """The ledger of applied telephony events: a redelivered event finds its row and stops."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=200)
    call_ref = models.CharField(max_length=150, blank=True)  # the provider's call id, if any
    kind = models.CharField(max_length=20)
    at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="processed_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


# The ACD settings, in a module of their own; imported here so Django finds them.
from kartoteka.callcenter.acd_models import (  # noqa: E402, F401
    OperatorSkill,
    QueueOverflow,
    QueueRouting,
    QueueSkill,
    Skill,
)
