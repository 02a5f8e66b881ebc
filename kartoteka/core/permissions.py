"""The one place that decides who may see and do what.

Every list, search, card, export, report, API operation and job narrows its
queryset with `scope()` and fetches single records with `get_or_404()`; both
answer 404 for what the user may not see, so existence never leaks.

A user's role gives, for each kind of record and each action, a scope: none,
own (records the user owns), team (records owned by anyone in a team the user
belongs to or heads) or all. Superusers and administrator roles see everything.
A user without a role has a sales manager's rights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any, TypeVar, Union

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import BigIntegerField, Model, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.http import Http404

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

AnyUser = Union["AbstractBaseUser", "AnonymousUser", None]

M = TypeVar("M", bound=Model)
DEFAULT_ROLE = "manager"


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"
    RESTORE = "restore"
    EXPORT = "export"
    REASSIGN = "reassign"
    MERGE = "merge"
    CONFIGURE = "configure"  # settings, users, roles, audit: administrators only


class Scope(IntEnum):
    NONE = 0
    OWN = 1
    TEAM = 2
    ALL = 3


class Denied(PermissionDenied):
    """The user may not do this: 403 (records use get_or_404, so existence never leaks)."""


@dataclass
class Rights:
    """What one user may do, read once per request and kept on the user object."""

    user_id: int | None
    is_admin: bool
    grants: dict[tuple[str, str], Scope] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    team_ids: frozenset[int] = frozenset()
    # Rows of a kind the user may view while standing in for an absent colleague (or None).
    stand_in: dict[str, Q | None] = field(default_factory=dict)

    def scope(self, kind: str, action: Action) -> Scope:
        if self.is_admin:
            return Scope.ALL
        if action is Action.CONFIGURE:
            return Scope.NONE
        return self.grants.get((kind, action.value), Scope.NONE)


NOBODY = Rights(user_id=None, is_admin=False)


def rights(user: AnyUser) -> Rights:
    if user is None or not user.is_authenticated or not getattr(user, "is_active", False):
        return NOBODY
    cached = getattr(user, "_kartoteka_rights", None)
    if cached is None:
        cached = _load_rights(user)
        user._kartoteka_rights = cached  # type: ignore[attr-defined]
    return cached


def forget(user: AnyUser) -> None:
    """Drop the cached rights (after the user's role or teams changed)."""
    if user is not None and hasattr(user, "_kartoteka_rights"):
        del user._kartoteka_rights


def _load_rights(user: Any) -> Rights:
    from kartoteka.accounts.models import Grant, Role, Team, User

    role = user.role if user.role_id else Role.objects.filter(code=DEFAULT_ROLE).first()
    if user.is_superuser or (role is not None and role.is_admin):
        return Rights(user_id=user.pk, is_admin=True)
    if role is None:
        return Rights(user_id=user.pk, is_admin=False)
    grants = {(g.kind, g.action): Scope(g.scope) for g in Grant.objects.filter(role=role)}
    fields = dict(role.field_rules.values_list("field", "access"))
    teams = Team.objects.filter(Q(members=user) | Q(head=user)).values("pk")
    in_teams = Q(teams__in=teams) | Q(headed_teams__in=teams)
    mates = set(User.objects.filter(in_teams).values_list("pk", flat=True))
    return Rights(
        user_id=user.pk,
        is_admin=False,
        grants=grants,
        fields=fields,
        team_ids=frozenset(mates | {user.pk}),
    )


# --- which records are whose ------------------------------------------------------------------


def kind_of(model: type[Model]) -> str:
    return str(getattr(model, "permission_kind", model._meta.model_name))


def _owned_by(model: type[Model], user_ids: list[int]) -> Q:
    """Rows of `model` owned by any of `user_ids`: the model names its owner paths."""
    paths: tuple[str, ...] = getattr(model, "owner_paths", ("owner",))
    condition = Q()
    for path in paths:
        if len(user_ids) == 1:
            # A bigint-typed value lets PostgreSQL use the (owner_id, search_text) index.
            condition |= Q(**{path: Cast(Value(user_ids[0]), BigIntegerField())})
        else:
            condition |= Q(**{f"{path}__in": user_ids})
    return condition


def _unowned(model: type[Model]) -> Q:
    paths: tuple[str, ...] = getattr(model, "owner_paths", ("owner",))
    condition = Q()
    for path in paths:
        condition &= Q(**{f"{path}__isnull": True})
    return condition


def _owner_ids(obj: Model) -> set[int]:
    ids: set[int] = set()
    for path in getattr(type(obj), "owner_paths", ("owner",)):
        *hops, last = path.split("__")
        target: Any = obj
        for hop in hops:
            target = getattr(target, hop, None)
        owner_id = getattr(target, f"{last}_id", None) if target is not None else None
        if owner_id is not None:
            ids.add(int(owner_id))
    return ids


# --- standing in for an absent colleague -----------------------------------------------------

# kind -> function(user id) -> the extra rows of that kind the user may view beyond the role's
# scope: as a substitute, as a meeting's participant (None when there are none). The planner
# registers "task" and "client".
STAND_IN: dict[str, Callable[[int], Q | None]] = {}


def register_stand_in(kind: str, rows: Callable[[int], Q | None]) -> None:
    STAND_IN[kind] = rows


def _stand_in(who: Rights, kind: str, action: Action) -> Q | None:
    """What a substitute also sees (view only), read once per request and kind."""
    if action is not Action.VIEW or kind not in STAND_IN or who.user_id is None:
        return None
    if kind not in who.stand_in:
        who.stand_in[kind] = STAND_IN[kind](who.user_id)
    return who.stand_in[kind]


# --- the questions everyone asks --------------------------------------------------------------


def scope_of(user: AnyUser, kind: str, action: Action) -> Scope:
    return rights(user).scope(kind, action)


def can(
    user: AnyUser, action: Action, obj: Model | type[Model] | None = None, kind: str = "client"
) -> bool:
    """May `user` do `action` on `obj` (a record), or on its kind (a model class or `kind`)?"""
    who = rights(user)
    if who.user_id is None:
        return False
    if isinstance(obj, type):
        kind = kind_of(obj)
    elif obj is not None:
        kind = kind_of(type(obj))
    level = who.scope(kind, action)
    if level is Scope.NONE:
        return False
    if level is Scope.ALL or obj is None or isinstance(obj, type):
        return True
    owners = _owner_ids(obj)
    if level is Scope.OWN:
        allowed = who.user_id in owners
    else:
        allowed = not owners or bool(owners & who.team_ids)
    extra = None if allowed else _stand_in(who, kind, action)
    if extra is not None:
        return type(obj)._default_manager.filter(extra, pk=obj.pk).exists()
    return allowed


def require(
    user: AnyUser, action: Action, obj: Model | type[Model] | None = None, kind: str = "client"
) -> None:
    if not can(user, action, obj, kind):
        raise Denied(action)


def condition(user: AnyUser, action: Action, model: type[Model]) -> Q | None:
    """The rows of `model` that `user` may `action`, as a filter: None for none, Q() for all.

    For reads that need the answer per row in one query (an annotation), not per object.
    """
    who = rights(user)
    level = who.scope(kind_of(model), action) if who.user_id else Scope.NONE
    if level is Scope.NONE:
        return None
    if level is Scope.ALL:
        return Q()
    assert who.user_id is not None
    if level is Scope.OWN:
        visible = _owned_by(model, [who.user_id])
    else:
        # A team also sees the records nobody owns yet (unassigned leads to hand out).
        visible = _owned_by(model, sorted(who.team_ids)) | _unowned(model)
    extra = _stand_in(who, kind_of(model), action)
    return visible | extra if extra is not None else visible


def scope(user: AnyUser, action: Action, queryset: QuerySet[M]) -> QuerySet[M]:
    """Narrow `queryset` to the rows `user` may `action`."""
    rows = condition(user, action, queryset.model)
    if rows is None:
        return queryset.none()
    return queryset.filter(rows) if rows else queryset


def get_or_404(user: AnyUser, action: Action, queryset: QuerySet[M], **lookup: object) -> M:
    """The row matching `lookup` that `user` may `action`, or Http404."""
    try:
        return scope(user, action, queryset).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- field rules ------------------------------------------------------------------------------


def field_access(user: AnyUser, group: str) -> str:
    """Access to a field group ("contacts", "custom.<key>", …): "write", "read" or "hidden"."""
    who = rights(user)
    if who.is_admin:
        return "write"
    return {"hidden": "hidden", "read": "read"}.get(who.fields.get(group, ""), "write")


def can_see(user: AnyUser, group: str) -> bool:
    return field_access(user, group) != "hidden"


def can_change(user: AnyUser, group: str) -> bool:
    return field_access(user, group) == "write"
