"""`{% load analytics %}{% if user|sees_analytics %}`: the navigation's analytics entry."""

from __future__ import annotations

from typing import Any

from django import template

from kartoteka.segments import access

register = template.Library()


@register.filter
def sees_analytics(user: Any) -> bool:
    return access.may_view(user)
