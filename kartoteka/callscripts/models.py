"""Call scripts: a script's steps and the way on from each, and the run of a script on a call.

A run keeps its history as rows (one per answered step), each with the text the operator saw
and the answer's label copied at the time: the path stays readable after the script is edited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kartoteka.core.models import SoftDeletable, TimeStamped, Versioned


class Script(TimeStamped, SoftDeletable, Versioned):
    """A script for the calls of some queues and a direction; every edit bumps its version."""

    class Direction(models.TextChoices):
        ANY = "", _("any direction")
        INBOUND = "in", _("inbound")
        OUTBOUND = "out", _("outbound")

    name = models.CharField(_("name"), max_length=120)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default="", blank=True
    )
    queues = models.ManyToManyField(
        "callcenter.Queue",
        verbose_name=_("queues"),
        blank=True,
        related_name="+",
        help_text=_("None chosen: calls of every queue."),
    )
    is_active = models.BooleanField(_("in use"), default=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("call script")
        verbose_name_plural = _("call scripts")

    def __str__(self) -> str:
        return self.name


class Step(SoftDeletable):
    """One thing the operator says, and what is asked: the answer decides the next step."""

    class Kind(models.TextChoices):
        CHOICE = "choice", _("choice")
        YESNO = "yesno", _("yes or no")
        TEXT = "text", _("free text")
        NUMBER = "number", _("number")
        FINAL = "final", _("final step")

    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.TextField(_("what the operator says"), max_length=4000)
    kind = models.CharField(_("answer"), max_length=6, choices=Kind.choices, default=Kind.TEXT)
    # Text, number, and the "yes" of a yes/no question go to next_step; "no" goes to no_step.
    next_step = models.ForeignKey(
        "self",
        verbose_name=_("next step"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    no_step = models.ForeignKey(
        "self",
        verbose_name=_("next step after “no”"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    disposition = models.ForeignKey(
        "callcenter.Disposition",
        verbose_name=_("suggested result"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["script", "position", "id"]
        verbose_name = _("script step")
        verbose_name_plural = _("script steps")

    def __str__(self) -> str:
        return f"{self.script_id}#{self.position}"


class Option(models.Model):
    """A choice of a choice step and the step it leads to."""

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    label = models.CharField(_("option"), max_length=200)
    next_step = models.ForeignKey(
        Step,
        verbose_name=_("leads to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["step", "position", "id"]
        verbose_name = _("option")
        verbose_name_plural = _("options")

    def __str__(self) -> str:
        return self.label


class Run(models.Model):
    """A script walked on one call: which script, at which version, who started and finished."""

    call = models.OneToOneField(
        "callcenter.Call", on_delete=models.CASCADE, related_name="script_run"
    )
    script = models.ForeignKey(Script, on_delete=models.PROTECT, related_name="runs")
    script_version = models.PositiveIntegerField(_("script version"))
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("script run")
        verbose_name_plural = _("script runs")

    def __str__(self) -> str:
        return f"run {self.script_id} on call {self.call_id}"


class Answer(models.Model):
    """History as rows: one answered step. "Back" marks the last row undone, never deletes it."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="answers")
    step = models.ForeignKey(Step, null=True, on_delete=models.SET_NULL, related_name="+")
    option = models.ForeignKey(Option, null=True, blank=True, on_delete=models.SET_NULL)
    next_step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    said = models.TextField(_("said"))  # the step's text as shown, placeholders filled in
    value = models.TextField(_("answer"), blank=True)  # the option's label, yes/no, text, number
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]
        verbose_name = _("script answer")
        verbose_name_plural = _("script answers")
        indexes = [
            models.Index(
                fields=["run", "id"], name="script_answer_live", condition=Q(undone_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.value[:40]}"
