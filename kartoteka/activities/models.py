"""The timeline: every interaction with a client, one table for fast, uniform history."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kartoteka.clients.models import Client
from kartoteka.core.models import SoftDeletable, TimeStamped


class Interaction(TimeStamped, SoftDeletable):
    class Kind(models.TextChoices):
        CALL = "call", _("call")
        MEETING = "meeting", _("meeting")
        EMAIL = "email", _("e-mail")
        MESSAGE = "message", _("message")
        PURCHASE = "purchase", _("purchase")
        COMPLAINT = "complaint", _("complaint")
        NOTE = "note", _("note")

    class Channel(models.TextChoices):
        PHONE = "phone", _("phone")
        EMAIL = "email", _("e-mail")
        MESSENGER = "messenger", _("messenger")
        SMS = "sms", _("SMS")
        IN_PERSON = "in_person", _("in person")
        WEB = "web", _("website")
        OTHER = "other", _("other")

    class Direction(models.TextChoices):
        INBOUND = "in", _("inbound")
        OUTBOUND = "out", _("outbound")

    class ComplaintStatus(models.TextChoices):
        OPEN = "open", _("open")
        IN_PROGRESS = "in_progress", _("in progress")
        RESOLVED = "resolved", _("resolved")
        REJECTED = "rejected", _("rejected")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("time"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, blank=True
    )
    duration_seconds = models.PositiveIntegerField(_("duration, seconds"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=200, blank=True)
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    # An order's or invoice's number in the accounting system it came from.
    number = models.CharField(_("document number"), max_length=60, blank=True)
    items = models.JSONField(_("items"), default=list, blank=True)
    complaint_status = models.CharField(
        _("complaint status"), max_length=12, choices=ComplaintStatus.choices, blank=True
    )

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["client", "-occurred_at", "-id"], name="interaction_timeline"),
            models.Index(fields=["author", "-occurred_at"], name="interaction_author"),
            # The API's list of all interactions, newest first, pages along this index.
            models.Index(
                fields=["-occurred_at", "-id"],
                name="interaction_recent",
                condition=Q(deleted_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | ~Q(currency=""),
                name="interaction_amount_has_currency",
            ),
        ]

    # Whose record this is, for the permissions engine: its author's and its client owner's.
    owner_paths = ("author", "client__owner")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"
