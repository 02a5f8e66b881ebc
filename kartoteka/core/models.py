"""Model mixins shared by every app: timestamps, soft delete, optimistic locking."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class LiveManager(models.Manager):
    """Default manager: rows not in the trash."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


class SoftDeletable(models.Model):
    """Deleted rows stay in the table with a time stamp until purged from the trash."""

    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)

    objects = LiveManager()
    all_objects = models.Manager()  # noqa: DJ012 - a mixin: subclasses declare fields after it

    class Meta:
        abstract = True

    @property
    def in_trash(self) -> bool:
        return self.deleted_at is not None


class Versioned(models.Model):
    """A version column for optimistic locking: a save names the version it read."""

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True
