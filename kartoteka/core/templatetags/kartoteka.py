"""Template filters used across pages."""

from __future__ import annotations

from typing import Any

from django import template

from kartoteka.clients.validators import format_phone

register = template.Library()


@register.filter
def get_item(mapping: dict, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def phone(e164: str) -> str:
    return format_phone(e164) if e164 else ""


@register.filter
def duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


@register.filter
def display(value: Any) -> str:
    """A custom field's value as text."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is True:
        return "✓"
    if value is False:
        return "✗"
    return "" if value is None else str(value)


@register.filter
def strip_prefix(value: str, prefix: str) -> str:
    return value.removeprefix(prefix)


@register.filter
def job_role(code: str) -> str:
    """A position's role, stored as its code in history rows, in the reader's language."""
    from kartoteka.clients.models import Employment

    return str(Employment.Role(code).label) if code in Employment.Role.values else code
