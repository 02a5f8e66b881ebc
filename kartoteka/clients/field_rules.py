"""Which field group each client field belongs to, for per-role field rules."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client, CustomField
from kartoteka.core import permissions
from kartoteka.core.permissions import Action, Scope

GROUPS = {
    "phones": "contacts",
    "emails": "contacts",
    "address": "contacts",
    "primary_phone": "contacts",
    "primary_email": "contacts",
    "inn": "ids",
    "kpp": "ids",
    "ogrn": "ids",
    "passport": "passport",
    "income": "income",
}


def groups_of(name: str, sensitive_keys: set[str]) -> list[str]:
    """The rule groups a field (or "custom.<key>") falls under."""
    if name.startswith("custom."):
        key = name.removeprefix("custom.")
        return [name, "sensitive"] if key in sensitive_keys else [name]
    return [GROUPS[name]] if name in GROUPS else []


def sensitive_keys() -> set[str]:
    return set(CustomField.objects.filter(sensitive=True).values_list("key", flat=True))


def hidden_fields(user: Any, custom_fields: list[CustomField] | None = None) -> set[str]:
    """Field names (and custom.<key>) the user may not see."""
    defs = list(CustomField.objects.all()) if custom_fields is None else custom_fields
    keys = {f.key for f in defs if f.sensitive}
    names = [*GROUPS, *(f"custom.{f.key}" for f in defs)]
    return {n for n in names if any(not permissions.can_see(user, g) for g in groups_of(n, keys))}


def may_reassign(actor: User | None, client: Client, new_owner: User | None, created: bool) -> bool:
    """May `actor` give `client` (as it is now, before the change) to `new_owner`?"""
    if (
        actor is None
        or (created and new_owner == actor)
        or client.owner_id == getattr(new_owner, "pk", None)
    ):
        return True
    if not permissions.can(actor, Action.REASSIGN, Client if created else client):
        return False
    team_only = permissions.scope_of(actor, "client", Action.REASSIGN) is Scope.TEAM
    return not team_only or new_owner is None or new_owner.pk in permissions.rights(actor).team_ids


def check_write(
    actor: User | None, client: Client, changes: dict[str, Any], owner_refused: bool
) -> None:
    """Refuse changes the actor's role may not make; the error names each field."""
    if actor is None:  # the system itself (imports run as their user, jobs as the system)
        return
    errors: dict[str, list[str]] = {}
    keys = sensitive_keys()
    for name in changes:
        if any(not permissions.can_change(actor, g) for g in groups_of(name, keys)):
            errors[name] = [_("Your role may not change this field.")]
    if owner_refused:
        errors["owner"] = [_("Your role may not assign clients to others.")]
    if errors:
        raise ValidationError(errors)


def redact(data: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """`data` (a client as the API shows it) without the values of hidden fields."""
    for name in hidden:
        if name.startswith("custom."):
            data.get("custom", {}).pop(name.removeprefix("custom."), None)
        elif name in ("phones", "emails"):
            data[name] = []
        elif name in data:
            data[name] = None if name == "income" else ""
    return data
