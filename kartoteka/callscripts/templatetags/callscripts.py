"""The script on the call card (one include of the card)."""

from __future__ import annotations

from typing import Any

from django import template

from kartoteka.callscripts import runner
from kartoteka.callscripts.run_views import context as run_context

register = template.Library()


@register.inclusion_tag("callscripts/_run.html", takes_context=True)
def call_script(context: dict[str, Any], call: Any) -> dict[str, Any]:
    request = context["request"]
    return {**run_context(runner.state(request.user, call), call), "request": request}
