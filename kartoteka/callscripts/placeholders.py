"""Client placeholders in a step's text: `{first_name}` and a few others, nothing else.

Never `str.format` or a template engine on the text a supervisor typed: `{client.__class__}`
or `{% load %}` would reach into objects. A regex swaps known names for plain values; the
result is plain text that the templates escape like any other.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _

PLACEHOLDER = re.compile(r"\{([a-z_]{1,30})\}")
NAMES = {
    "first_name": _("the client's first name"),
    "middle_name": _("the client's middle name"),
    "last_name": _("the client's last name"),
    "name": _("the client's full name or the company's name"),
    "operator": _("the operator's first name"),
}


def values(client: Any, operator: Any) -> dict[str, str]:
    found = {name: str(getattr(client, name, "") or "") for name in NAMES if name != "operator"}
    found["operator"] = str(getattr(operator, "first_name", "") or "")
    return found


def fill(text: str, known: dict[str, str]) -> str:
    """Known placeholders become their values (empty when unknown for this client); any other
    brace text stays as typed."""

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        return known.get(name, "") if name in NAMES else match.group(0)

    return PLACEHOLDER.sub(swap, text)


def unknown(text: str) -> list[str]:
    """Placeholder-looking names that are not placeholders (a typo the editor warns about)."""
    return sorted({m for m in PLACEHOLDER.findall(text) if m not in NAMES})
