"""The call card's quality panel: this call's evaluations and, for supervisors, "evaluate"."""

from __future__ import annotations

from typing import Any

from django import template

from kartoteka.callcenter import access
from kartoteka.quality import queries
from kartoteka.quality.models import Scorecard

register = template.Library()


@register.inclusion_tag("quality/_call_panel.html", takes_context=True)
def call_quality(context: template.Context, call: Any) -> dict[str, Any]:
    user = context["request"].user
    supervisor = access.runs_centre(user)
    evaluable = supervisor and bool(call.recording_url) and call.user_id != user.pk
    return {
        "evaluations": queries.for_call(user, call),
        "scorecards": list(Scorecard.objects.filter(is_active=True)) if evaluable else [],
        "call": call,
        "csrf_token": context.get("csrf_token"),
    }
