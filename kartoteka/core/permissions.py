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

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

if TYPE_CHECKING:
    from kartoteka.accounts.models import User

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


def _active(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def can(user: User | None, action: Action, obj: Model | None = None) -> bool:
    """May `user` do `action` (on `obj`, or on its kind when `obj` is None)?"""
    if not _active(user):
        return False
    assert user is not None
    if action is Action.CONFIGURE:
        return bool(user.is_staff or user.is_superuser)
    return True


def require(user: User | None, action: Action, obj: Model | None = None) -> None:
    if not can(user, action, obj):
        raise Denied(action)


def scope(user: User | None, action: Action, queryset: QuerySet[M]) -> QuerySet[M]:
    """Narrow `queryset` to the rows `user` may `action`."""
    if not can(user, action):
        return queryset.none()
    return queryset


def get_or_404(user: User | None, action: Action, queryset: QuerySet[M], **lookup: object) -> M:
    """The row matching `lookup` that `user` may `action`, or Http404."""
    try:
        obj = scope(user, action, queryset).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can(user, action, obj):
        raise Http404
    return obj
