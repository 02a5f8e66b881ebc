"""/calls/staffing/: the planner's page. GET shows the form; POST computes the plan (nothing is
stored) and shows the table and the chart."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kartoteka.callcenter import access
from kartoteka.core.forms import add_service_errors
from kartoteka.core.views import actor
from kartoteka.staffing import history
from kartoteka.staffing.forms import StaffingForm
from kartoteka.staffing.planning import Plan


def chart(plan: Plan) -> dict[str, Any]:
    rows = plan.rows
    return {
        "axes": {"y": _("Agents"), "y1": _("Calls")},
        "aspect": 3,
        "labels": [r["interval"] for r in rows],
        "series": [
            {
                "label": _("Agents needed"),
                "values": [r["agents"] for r in rows],
                "kind": "line",
                "stepped": True,
                "colour": "#dc3545",
            },
            {
                "label": _("Scheduled agents"),
                "values": [r["scheduled_agents"] for r in rows],
                "kind": "line",
                "stepped": True,
                "colour": "#0d6efd",
            },
            {
                "label": _("Calls"),
                "values": [r["calls"] for r in rows],
                "kind": "bar",
                "axis": "y1",
                "colour": "rgba(108, 117, 125, 0.35)",
            },
        ],
    }


@require_http_methods(["GET", "POST"])
def page(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    access.require_supervisor(user)
    form = StaffingForm(request.POST if request.method == "POST" else None)
    plan = None
    if form.is_bound and form.is_valid():
        try:
            plan = history.plan(user, form.inputs())
        except ValidationError as exc:
            add_service_errors(form, exc)
    context = {
        "form": form,
        "plan": plan,
        "chart": chart(plan) if plan else None,
    }
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "staffing/page.html", context, status=status)
