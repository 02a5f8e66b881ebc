"""Quality management: scorecards with weighted criteria, samples of calls to evaluate, and
evaluations that keep a copy of the criteria they were scored on (editing a scorecard never
changes a past score)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.core.models import SoftDeletable, TimeStamped, Versioned
from kartoteka.quality.scoring import failed

MAX_SCALE = 10
MAX_WEIGHT = 100


class Scorecard(TimeStamped, SoftDeletable, Versioned):
    """A named set of criteria; each save of its criteria is a new version (the `version`)."""

    name = models.CharField(_("name"), max_length=150)
    is_active = models.BooleanField(_("in use"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    class Kind(models.TextChoices):
        YES_NO = "yes_no", _("yes / no")
        SCALE = "scale", _("scale 0–N")

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    label = models.CharField(_("criterion"), max_length=200)
    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices, default=Kind.YES_NO)
    max_score = models.PositiveSmallIntegerField(
        _("highest score"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SCALE)],
    )
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_WEIGHT)]
    )
    critical = models.BooleanField(_("critical"), default=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")

    def __str__(self) -> str:
        return self.label


class Sample(models.Model):
    """A supervisor's request for calls to evaluate; the seed makes the draw reproducible."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="samples")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    queue = models.CharField(_("queue"), max_length=80, blank=True)
    per_operator = models.PositiveSmallIntegerField(_("calls per operator"), null=True, blank=True)
    percent = models.PositiveSmallIntegerField(_("percent of calls"), null=True, blank=True)
    seed = models.BigIntegerField(_("seed"))
    drawn = models.PositiveIntegerField(_("calls drawn"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("sample")
        verbose_name_plural = _("samples")

    def __str__(self) -> str:
        return f"{self.scorecard_id} {self.start}–{self.end} #{self.seed}"


class Evaluation(TimeStamped, Versioned):
    """One call scored on one scorecard: pending until the evaluator submits it."""

    class State(models.TextChoices):
        PENDING = "pending", _("to evaluate")
        SUBMITTED = "submitted", _("submitted")

    class Reply(models.TextChoices):
        NONE = "", _("no reply yet")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        DISPUTED = "disputed", _("disputed")

    call = models.ForeignKey(
        "callcenter.Call", verbose_name=_("call"), on_delete=models.CASCADE, related_name="+"
    )
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="evaluations")
    scorecard_version = models.PositiveIntegerField(_("scorecard version"))
    sample = models.ForeignKey(
        Sample, null=True, blank=True, on_delete=models.SET_NULL, related_name="evaluations"
    )
    # The call's operator when it was sampled: whose score this is (and who may read it).
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.PROTECT,
        related_name="quality_evaluations",
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evaluator"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    total = models.DecimalField(
        _("score, %"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    critical_failed = models.BooleanField(_("a critical criterion failed"), default=False)
    comment = models.TextField(_("overall comment"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    # The call's start, copied: the scores page groups by it without joining calls.
    call_started_at = models.DateTimeField(_("call started"))
    reply = models.CharField(
        _("operator's reply"), max_length=12, choices=Reply.choices, default="", blank=True
    )
    reply_comment = models.TextField(_("operator's comment"), blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.UniqueConstraint(fields=["call", "scorecard"], name="evaluation_once_per_call")
        ]
        indexes = [
            models.Index(fields=["evaluator", "state"], name="evaluation_worklist"),
            models.Index(fields=["operator", "call_started_at"], name="evaluation_operator_time"),
            models.Index(fields=["state", "call_started_at"], name="evaluation_state_time"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id}/{self.scorecard_id}: {self.total}"


class Answer(models.Model):
    """A criterion as it was when the evaluation was made, and its score (None: not applicable)."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="answers")
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(_("criterion"), max_length=200)
    kind = models.CharField(_("kind"), max_length=6, choices=Criterion.Kind.choices)
    max_score = models.PositiveSmallIntegerField(_("highest score"))
    weight = models.PositiveSmallIntegerField(_("weight"))
    critical = models.BooleanField(_("critical"), default=False)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")

    def __str__(self) -> str:
        return f"{self.label}: {self.score}"

    @property
    def failed(self) -> bool:
        return failed(self.score, self.max_score)
