"""The roles Kartoteka ships with, and the vocabulary of the role matrix.

An administrator edits the matrix afterwards; `seed_roles` only fills what is missing.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

# Record kinds in the matrix: the ones that exist now and the ones the next modules add.
KINDS = {
    "client": _("clients"),
    "interaction": _("interactions"),
    "deal": _("deals"),
    "task": _("tasks"),
    "call": _("calls"),
}
ACTIONS = {
    "view": _("view"),
    "create": _("create"),
    "edit": _("edit"),
    "delete": _("delete"),
    "restore": _("restore from trash"),
    "export": _("export"),
    "reassign": _("reassign"),
    "merge": _("merge"),
}
# Fields a role can be denied: built-in groups, custom fields marked sensitive, or one custom field.
FIELD_GROUPS = {
    "contacts": _("contact details (phones, e-mails, address)"),
    "ids": _("company ids (INN, KPP, OGRN)"),
    "passport": _("passport data"),
    "income": _("income"),
    "sensitive": _("custom fields marked sensitive"),
}

NO, OWN, TEAM, ALL = 0, 1, 2, 3


def _row(
    view: int,
    create: int,
    edit: int,
    delete: int,
    restore: int,
    export: int,
    reassign: int,
    merge: int,
) -> dict[str, int]:
    return dict(
        zip(ACTIONS, (view, create, edit, delete, restore, export, reassign, merge), strict=True)
    )


EVERYTHING = _row(ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL)
DEFAULTS: dict[str, dict[str, Any]] = {
    "admin": {
        "name": _("Administrator"),
        "is_admin": True,
        "export_daily_rows": 1_000_000,
        "grants": dict.fromkeys(KINDS, EVERYTHING),
        "fields": {},
    },
    "head": {
        "name": _("Head of sales"),
        "export_daily_rows": 20_000,
        "grants": dict.fromkeys(KINDS, _row(TEAM, ALL, TEAM, TEAM, TEAM, TEAM, TEAM, TEAM)),
        "fields": {},
    },
    "manager": {
        "name": _("Sales manager"),
        "export_daily_rows": 500,
        "grants": {
            "client": _row(OWN, ALL, OWN, NO, NO, OWN, NO, NO),
            "interaction": _row(OWN, OWN, OWN, OWN, NO, OWN, NO, NO),
            "deal": _row(OWN, ALL, OWN, NO, NO, OWN, NO, NO),
            "task": _row(OWN, ALL, OWN, OWN, NO, OWN, NO, NO),
            "call": _row(OWN, ALL, OWN, NO, NO, NO, NO, NO),
        },
        "fields": {},
    },
    "operator": {
        "name": _("Contact-centre operator"),
        "export_daily_rows": 0,
        "grants": {
            "client": _row(ALL, ALL, NO, NO, NO, NO, NO, NO),
            "interaction": _row(ALL, ALL, OWN, NO, NO, NO, NO, NO),
            "deal": _row(NO, NO, NO, NO, NO, NO, NO, NO),
            "task": _row(OWN, ALL, OWN, NO, NO, NO, NO, NO),
            "call": _row(OWN, ALL, OWN, NO, NO, NO, NO, NO),
        },
        "fields": {"passport": "hidden", "income": "hidden", "sensitive": "hidden", "ids": "read"},
    },
    "marketer": {
        "name": _("Marketer"),
        "export_daily_rows": 50_000,
        "grants": {
            "client": _row(ALL, ALL, NO, NO, NO, ALL, NO, NO),
            "interaction": _row(ALL, NO, NO, NO, NO, ALL, NO, NO),
            "deal": _row(ALL, NO, NO, NO, NO, NO, NO, NO),
            "task": _row(OWN, ALL, OWN, NO, NO, NO, NO, NO),
            "call": _row(NO, NO, NO, NO, NO, NO, NO, NO),
        },
        "fields": {"passport": "hidden", "income": "hidden", "sensitive": "hidden"},
    },
    "analyst": {
        "name": _("Analyst"),
        "export_daily_rows": 0,
        "grants": dict.fromkeys(KINDS, _row(ALL, NO, NO, NO, NO, NO, NO, NO)),
        "fields": {
            "contacts": "hidden",
            "passport": "hidden",
            "income": "hidden",
            "sensitive": "hidden",
        },
    },
}


def seed_roles(role_model: Any, grant_model: Any, rule_model: Any) -> None:
    """Create the shipped roles and any missing matrix cells (works inside migrations too)."""
    for code, spec in DEFAULTS.items():
        role, _created = role_model.objects.get_or_create(
            code=code,
            defaults={
                "name": str(spec["name"]),
                "is_admin": spec.get("is_admin", False),
                "export_daily_rows": spec["export_daily_rows"],
            },
        )
        for kind, actions in spec["grants"].items():
            for action, scope in actions.items():
                grant_model.objects.get_or_create(
                    role=role, kind=kind, action=action, defaults={"scope": scope}
                )
        for field, access in spec["fields"].items():
            rule_model.objects.get_or_create(role=role, field=field, defaults={"access": access})
