"""Exports: each one is a row, so that daily limits, approvals and downloads are accountable."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Export(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        VCF = "vcf", _("vCard")

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


class Entity(models.TextChoices):
    PERSONS = "persons", _("persons")
    COMPANIES = "companies", _("companies")
    INTERACTIONS = "interactions", _("interactions")
    PURCHASES = "purchases", _("purchases")


class OnDuplicate(models.TextChoices):
    SKIP = "skip", _("skip the row")
    UPDATE = "update", _("update the existing record")
    CREATE = "create", _("create a new record anyway")


class ImportJob(models.Model):
    """One upload and what became of it: the mapping, the counts, the rejected rows, and the ids
    of what it created, so that it can be undone."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("waiting for the column mapping")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        CHECKED = "checked", _("checked (dry run)")
        DONE = "done", _("imported")
        REJECTED = "rejected", _("not imported: rows have errors")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")
        UNDONE = "undone", _("undone")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imports"
    )
    entity = models.CharField(_("what is imported"), max_length=12, choices=Entity.choices)
    filename = models.CharField(_("file"), max_length=255)
    format = models.CharField(_("format"), max_length=4)
    encoding = models.CharField(max_length=12, blank=True)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(_("column mapping"), default=list)
    on_duplicate = models.CharField(
        _("when the record exists"),
        max_length=6,
        choices=OnDuplicate.choices,
        default=OnDuplicate.SKIP,
    )
    atomic = models.BooleanField(_("all or nothing"), default=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    # The first problems and the first rows as stored, for the preview; the full list of rejected
    # rows is a file beside the upload.
    problems = models.JSONField(default=list, blank=True)
    sample = models.JSONField(default=list, blank=True)
    # [first, last] id ranges of the clients and interactions this import created.
    created_clients = models.JSONField(default=list, blank=True)
    created_interactions = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class ImportChange(models.Model):
    """A record an import changed, as it was before: what "undo this import" puts back."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="changes")
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    version = models.PositiveIntegerField()  # the version the import left; undo refuses others
    before = models.JSONField()

    def __str__(self) -> str:
        return f"{self.job_id} {self.client_id}"


class ImportTemplate(models.Model):
    """A saved column mapping: header text to field, offered again for files with those headers."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_templates"
    )
    entity = models.CharField(_("what is imported"), max_length=12, choices=Entity.choices)
    name = models.CharField(_("name"), max_length=100)
    mapping = models.JSONField(_("column mapping"), default=dict)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "entity", "name"], name="import_template_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name
