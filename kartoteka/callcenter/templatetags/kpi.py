"""Template helpers of the KPI pages."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """A ratio 0..1 as a percentage with one decimal; nothing to divide by as a dash."""
    if value is None:
        return "—"
    return f"{number_format(round(value * 100, 1), 1)} %"
