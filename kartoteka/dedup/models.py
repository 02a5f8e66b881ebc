"""Duplicates: the key table behind the single-record check, the review queue, merges."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kartoteka.clients.models import Client


class ClientKey(models.Model):
    """A name key of a client (a 64-bit hash of the folded name), found by an index.

    Phones, e-mails and INNs have their own indexed columns; names need this table because the
    folded, transliterated key is computed, not stored on the client. The clients' service keeps
    it on every write, the bulk loaders write it beside the rows, `kartoteka dedup reindex`
    rebuilds it.
    """

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    key = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["key"], name="dedup_key")]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key}"


class Candidate(models.Model):
    """A pair in the review queue: two clients that look like one (a < b)."""

    class Status(models.TextChoices):
        OPEN = "open", _("to review")
        MERGED = "merged", _("merged")
        DISMISSED = "dismissed", _("not a duplicate")

    a = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    b = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("score"))
    reasons = models.JSONField(_("reasons"), default=list)
    cluster = models.BigIntegerField(_("cluster"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    found_at = models.DateTimeField(_("found"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(fields=["a", "b"], name="dedup_pair_unique"),
            models.CheckConstraint(condition=Q(a__lt=F("b")), name="dedup_pair_ordered"),
        ]
        indexes = [
            models.Index(fields=["status", "-score", "id"], name="dedup_queue"),
            models.Index(fields=["cluster"], name="dedup_cluster"),
            models.Index(fields=["b"], name="dedup_pair_b"),
        ]

    def __str__(self) -> str:
        return f"{self.a_id}~{self.b_id} {self.score}"


class Merge(models.Model):
    """A merge of `loser` into `survivor`, with what it moved: what unmerge puts back."""

    survivor = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    loser = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("merged"), auto_now_add=True)
    automatic = models.BooleanField(_("automatic"), default=False)
    snapshot = models.JSONField(default=dict)
    survivor_version = models.PositiveIntegerField()  # the version the merge left
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        indexes = [models.Index(fields=["loser"], name="dedup_merge_loser")]

    def __str__(self) -> str:
        return f"{self.loser_id}→{self.survivor_id}"


class DedupSettings(models.Model):
    """One row: whether the scheduled scan merges exact matches by itself, and from what score."""

    auto_merge = models.BooleanField(_("merge exact matches automatically"), default=False)
    threshold = models.FloatField(
        _("lowest score to merge automatically"),
        default=0.9,
        validators=[MinValueValidator(0.5), MaxValueValidator(1.0)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("duplicate settings")

    def __str__(self) -> str:
        return f"auto={self.auto_merge} ≥{self.threshold}"

    @classmethod
    def current(cls) -> DedupSettings:
        return cls.objects.get_or_create(pk=1)[0]
