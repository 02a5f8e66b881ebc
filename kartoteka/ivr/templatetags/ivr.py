from typing import Any

from django import template

register = template.Library()


@register.filter
def shown_answers(ivr: Any) -> list[tuple[str, str]]:
    """A call's IVR answers for the card: the menu and path first, then what was entered."""
    if not isinstance(ivr, dict):
        return []
    first = [k for k in ("menu", "path", "queue") if k in ivr]
    rest = sorted(k for k in ivr if k not in first)
    return [(str(k), str(ivr[k])) for k in first + rest]
