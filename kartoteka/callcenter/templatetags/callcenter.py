"""Template helpers of the contact centre: durations, the click-to-call button."""

from __future__ import annotations

from typing import Any

from django import template

from kartoteka.callcenter import access
from kartoteka.core import permissions
from kartoteka.core.permissions import Action

register = template.Library()


@register.filter
def duration(seconds: int | None) -> str:
    """Seconds as h:mm:ss or m:ss; an empty value as a dash."""
    if seconds is None or seconds == "":
        return "—"
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.inclusion_tag("callcenter/_dial.html", takes_context=True)
def dial_button(context: dict[str, Any], number: str) -> dict[str, Any]:
    """A small "call" button beside a phone number, for users who may make calls."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "number": number,
        "show": bool(number) and permissions.can(user, Action.CREATE, kind="call"),
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def centre_access(context: dict[str, Any]) -> dict[str, bool]:
    """What the contact centre's nav may link to: callcenter.access.nav of the request's user."""
    request = context.get("request")
    return access.nav(getattr(request, "user", None))
