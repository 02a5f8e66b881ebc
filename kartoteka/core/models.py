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


class AuditEntry(models.Model):
    """One append-only row of the audit log; each carries the hash of the one before it.

    The actor is kept by id and name, not by foreign key, so that nothing ever updates a row.
    """

    class Action(models.TextChoices):
        LOGIN = "login", _("logged in")
        LOGIN_FAILED = "login_failed", _("failed to log in")
        LOGOUT = "logout", _("logged out")
        CARD_VIEW = "card_view", _("viewed a client card")
        EXPORT = "export", _("exported")
        DELETE = "delete", _("moved to trash")
        RESTORE = "restore", _("restored from trash")
        ERASE = "erase", _("erased personal data")
        REASSIGN = "reassign", _("reassigned")
        ROLE_CHANGE = "role_change", _("changed a role")
        USER_CHANGE = "user_change", _("changed a user")
        TEAM_CHANGE = "team_change", _("changed a team")
        TOKEN = "token", _("API token")
        SUBJECT_REQUEST = "subject_request", _("answered a subject request")
        IMPORT = "import", _("imported")
        IMPORT_UNDO = "import_undo", _("undid an import")
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        CONFIGURE = "configure", _("changed the settings")
        ISSUE = "issue", _("issued a document")
        PLAN = "plan", _("set a sales plan")
        REPLAN = "replan", _("changed a sales plan")
        UNPLAN = "unplan", _("deleted a sales plan")

    at = models.DateTimeField(_("time"), db_index=True)
    actor_id = models.BigIntegerField(_("user id"), null=True, blank=True)
    actor_name = models.CharField(_("user"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    target_kind = models.CharField(_("record kind"), max_length=30, blank=True)
    target_id = models.CharField(_("record"), max_length=40, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["actor_id", "action", "at"], name="audit_actor_action"),
            models.Index(fields=["target_kind", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"


class Notification(models.Model):
    """A message for one user in the notification centre."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.CharField(_("text"), max_length=500)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.text


class RealtimeEvent(models.Model):
    """An event for one user's open pages, when there is no Redis to carry it (see realtime)."""

    user_id = models.BigIntegerField()
    event = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user_id", "id"], name="realtime_user_event")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.event}"
