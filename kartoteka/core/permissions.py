"""The one place that decides who may see and do what.

Every list, search, card, export, report, API operation and job narrows its
queryset with `scope()` and fetches single records with `get_or_404()`; both
answer 404 for what the user may not see, so existence never leaks.

The client base ships with one rule: an active signed-in user works with every
live client; configuration (custom fields, completeness weights) is for staff.
Roles, teams and the own/team/all matrix plug in here without touching callers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser | None

M = TypeVar("M", bound=Model)


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"
    RESTORE = "restore"
    EXPORT = "export"
    REASSIGN = "reassign"
    CONFIGURE = "configure"


class Denied(PermissionDenied):
    """The user may not do this: 403 (records use get_or_404, so existence never leaks)."""


def _active(user: AnyUser) -> bool:
    return bool(user is not None and user.is_authenticated and getattr(user, "is_active", False))


def can(user: AnyUser, action: Action, obj: Model | None = None) -> bool:
    """May `user` do `action` (on `obj`, or on its kind when `obj` is None)?"""
    if not _active(user):
        return False
    if action is Action.CONFIGURE:
        return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))
    return True


def require(user: AnyUser, action: Action, obj: Model | None = None) -> None:
    if not can(user, action, obj):
        raise Denied(action)


def scope(user: AnyUser, action: Action, queryset: QuerySet[M]) -> QuerySet[M]:
    """Narrow `queryset` to the rows `user` may `action`."""
    if not can(user, action):
        return queryset.none()
    return queryset


def get_or_404(user: AnyUser, action: Action, queryset: QuerySet[M], **lookup: object) -> M:
    """The row matching `lookup` that `user` may `action`, or Http404."""
    try:
        obj = scope(user, action, queryset).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can(user, action, obj):
        raise Http404
    return obj
