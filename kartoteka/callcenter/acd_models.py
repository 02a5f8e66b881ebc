"""ACD settings: skills, the operator × skill matrix, and how each queue routes its calls.

The router (routing/) never sees these rows: `acd.py` turns them into its plain dataclasses."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kartoteka.callcenter.routing import Strategy
from kartoteka.core.models import Versioned

MIN_LEVEL, MAX_LEVEL = 1, 10
MAX_WAIT_S = 86_400
LEVELS = [MinValueValidator(MIN_LEVEL), MaxValueValidator(MAX_LEVEL)]


class Skill(models.Model):
    """Something a call may need and an operator may have ("English", "mortgages", …)."""

    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self) -> str:
        return self.name


class OperatorSkill(Versioned):
    """One cell of the matrix: how well an operator has a skill, 1–10 (no row: not at all)."""

    operator = models.ForeignKey(
        "callcenter.Operator", on_delete=models.CASCADE, related_name="skill_levels"
    )
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="operator_levels")
    level = models.PositiveSmallIntegerField(_("level"), validators=LEVELS)

    class Meta:
        verbose_name = _("operator skill")
        verbose_name_plural = _("operator skills")
        constraints = [
            models.UniqueConstraint(fields=["operator", "skill"], name="operator_skill_once"),
            models.CheckConstraint(
                condition=Q(level__gte=MIN_LEVEL, level__lte=MAX_LEVEL), name="operator_skill_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id}:{self.skill_id}={self.level}"


class QueueRouting(Versioned):
    """How a queue routes: strategy, sticky wait, escalation, priority from CRM data.

    A row of its own (not columns on Queue) so the queue list stays as it was; a queue without
    one routes by the defaults."""

    STRATEGIES = [
        (Strategy.LONGEST_IDLE.value, _("longest idle")),
        (Strategy.FEWEST_CALLS.value, _("fewest calls")),
        (Strategy.ROUND_ROBIN.value, _("round robin")),
        (Strategy.SKILL_LEVEL.value, _("highest skill level first")),
    ]

    queue = models.OneToOneField(
        "callcenter.Queue", primary_key=True, on_delete=models.CASCADE, related_name="routing"
    )
    strategy = models.CharField(
        _("strategy"), max_length=12, choices=STRATEGIES, default=Strategy.LONGEST_IDLE.value
    )
    sticky_wait_s = models.PositiveIntegerField(
        _("wait for the client's own operator, s"),
        default=0,
        validators=[MaxValueValidator(3600)],
    )
    escalate_after_s = models.PositiveIntegerField(
        _("escalate to a supervisor after, s"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_WAIT_S)],
    )
    use_abc = models.BooleanField(_("ABC class raises priority"), default=True)
    vip_tag = models.ForeignKey(
        "clients.Tag",
        verbose_name=_("VIP tag"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("queue routing")
        verbose_name_plural = _("queue routing")

    def __str__(self) -> str:
        return f"{self.queue_id} {self.strategy}"


class QueueSkill(models.Model):
    """A skill a queue's calls need, with the minimum level."""

    queue = models.ForeignKey(
        "callcenter.Queue", on_delete=models.CASCADE, related_name="required_skills"
    )
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="queue_needs")
    min_level = models.PositiveSmallIntegerField(_("minimum level"), validators=LEVELS)

    class Meta:
        verbose_name = _("required skill")
        verbose_name_plural = _("required skills")
        constraints = [
            models.UniqueConstraint(fields=["queue", "skill"], name="queue_skill_once"),
            models.CheckConstraint(
                condition=Q(min_level__gte=MIN_LEVEL, min_level__lte=MAX_LEVEL),
                name="queue_skill_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.queue_id}:{self.skill_id}>={self.min_level}"


class QueueOverflow(models.Model):
    """After a call waited `after_wait_s`, widen who may take it: every minimum level lowered by
    `level_drop` (never below 1), or the requirement of another queue."""

    queue = models.ForeignKey("callcenter.Queue", on_delete=models.CASCADE, related_name="overflow")
    position = models.PositiveSmallIntegerField(_("step"))
    after_wait_s = models.PositiveIntegerField(
        _("after waiting, s"), validators=[MaxValueValidator(MAX_WAIT_S)]
    )
    level_drop = models.PositiveSmallIntegerField(
        _("lower levels by"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_LEVEL - 1)],
    )
    target = models.ForeignKey(
        "callcenter.Queue",
        verbose_name=_("or take operators of queue"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        ordering = ["queue", "position"]
        verbose_name = _("overflow step")
        verbose_name_plural = _("overflow steps")
        constraints = [
            models.UniqueConstraint(fields=["queue", "position"], name="queue_overflow_position"),
            models.CheckConstraint(
                condition=Q(level_drop__isnull=False, target__isnull=True)
                | Q(level_drop__isnull=True, target__isnull=False),
                name="queue_overflow_one_way",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.queue_id} +{self.after_wait_s}s"
