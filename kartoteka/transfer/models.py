"""Exports: each one is a row, so that daily limits, approvals and downloads are accountable."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Export(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for approval")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        DONE = "done", _("downloaded")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports"
    )
    query = models.CharField(_("list filters"), max_length=2000, blank=True)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    rows = models.PositiveIntegerField(_("rows"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [models.Index(fields=["user", "status", "created_at"], name="export_user_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.rows} {self.status}"
