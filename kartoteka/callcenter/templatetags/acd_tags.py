"""May the user open the ACD pages (for the contact centre's navigation)."""

from __future__ import annotations

from typing import Any

from django import template

from kartoteka.callcenter.acd_services import may_manage

register = template.Library()


@register.simple_tag(takes_context=True)
def may_manage_acd(context: dict[str, Any]) -> bool:
    request = context.get("request")
    return may_manage(getattr(request, "user", None))
