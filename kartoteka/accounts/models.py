from __future__ import annotations

import hashlib
import secrets
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as BaseUserManager
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Role(models.Model):
    """A set of permissions: the scope of each action on each kind of record, and field rules."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_admin = models.BooleanField(
        _("administers Kartoteka"),
        default=False,
        help_text=_("Settings, users, roles and the audit log."),
    )
    require_2fa = models.BooleanField(_("requires two-factor login"), default=False)
    export_daily_rows = models.PositiveIntegerField(
        _("export limit, rows a day"),
        default=1000,
        help_text=_("Bigger exports wait for a head's approval."),
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the user's language (shipped roles are in the catalogue)."""
        return gettext(self.name)


class Grant(models.Model):
    """One cell of the role matrix: the scope of `action` on `kind` records."""

    class Scope(models.IntegerChoices):
        NONE = 0, _("none")
        OWN = 1, _("own")
        TEAM = 2, _("team")
        ALL = 3, _("all")

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="grants")
    kind = models.CharField(_("record kind"), max_length=20)
    action = models.CharField(_("action"), max_length=20)
    scope = models.PositiveSmallIntegerField(_("scope"), choices=Scope.choices, default=Scope.NONE)

    class Meta:
        verbose_name = _("permission")
        verbose_name_plural = _("permissions")
        constraints = [
            models.UniqueConstraint(fields=["role", "kind", "action"], name="grant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.role_id}:{self.kind}.{self.action}={self.scope}"


class FieldRule(models.Model):
    """A sensitive field a role may not see, or may see but not change."""

    class Access(models.TextChoices):
        HIDDEN = "hidden", _("hidden")
        READ = "read", _("read only")

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="field_rules")
    field = models.CharField(_("field"), max_length=60)
    access = models.CharField(_("access"), max_length=6, choices=Access.choices)

    class Meta:
        verbose_name = _("field rule")
        verbose_name_plural = _("field rules")
        constraints = [models.UniqueConstraint(fields=["role", "field"], name="field_rule_unique")]

    def __str__(self) -> str:
        return f"{self.role_id}:{self.field}={self.access}"


class UserManager(BaseUserManager["User"]):
    """Users come with their role: every request asks what the role allows."""

    def get_queryset(self) -> models.QuerySet[User]:
        return super().get_queryset().select_related("role")


class User(AbstractUser):
    role = models.ForeignKey(
        Role,
        verbose_name=_("role"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("Empty: a sales manager's rights."),
    )
    language = models.CharField(
        _("interface language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: taken from the browser."),
    )

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A bearer token for the API. Only its hash is stored; the token is shown once."""

    PREFIX = "kt_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.hint}… ({self.user})"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def new_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)


class Team(models.Model):
    """A department: its members share team-scoped records; the head leads it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    head = models.ForeignKey(
        User,
        verbose_name=_("head"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_teams",
    )
    members = models.ManyToManyField(
        User, verbose_name=_("members"), blank=True, related_name="teams"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name
