"""Sales report pages: plan vs fact, forecast, outcomes, funnel, losses, per manager; plans.

Thin: `reports` reads (through the permissions engine), `plans` writes and checks the rights.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.activities.services import CURRENCIES
from kartoteka.core.errors import field_errors
from kartoteka.core.forms import StyledForm, add_service_errors, parse_id
from kartoteka.core.permissions import Denied
from kartoteka.core.views import actor
from kartoteka.sales import plans, reports
from kartoteka.sales.models import Pipeline

FILTER_KEYS = ("from", "to", "pipeline", "owner", "team")


class PlanForm(StyledForm):
    month = forms.CharField(
        label=gettext_lazy("month"), max_length=7, widget=forms.TextInput(attrs={"type": "month"})
    )
    target = forms.ChoiceField(label=gettext_lazy("manager or team"))
    amount = forms.DecimalField(
        label=gettext_lazy("amount"), min_value=0, max_digits=14, decimal_places=2
    )
    currency = forms.ChoiceField(
        label=gettext_lazy("currency"), choices=[(c, c) for c in sorted(CURRENCIES)]
    )
    deals = forms.IntegerField(
        label=gettext_lazy("won deals"), min_value=0, max_value=plans.MAX_DEALS
    )

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets  # type: ignore[attr-defined]

    def clean_month(self) -> dt.date:
        month = reports.parse_month(self.cleaned_data["month"])
        if month is None:
            raise ValidationError(_("Enter a month as YYYY-MM."))
        return month


def _targets(user: Any) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The plan form's choices ("t<id>" teams, "u<id>" managers) and what each stands for."""
    found: dict[str, Any] = {}
    for team in plans.plannable_teams(user):
        found[f"t{team.pk}"] = team
    for person in plans.plannable_owners(user):
        found[f"u{person.pk}"] = person
    labels = [
        (key, _("Team: %(name)s") % {"name": item} if key[0] == "t" else str(item))
        for key, item in found.items()
    ]
    return labels, found


@require_http_methods(["GET", "POST"])
def plan_list(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not plans.may_plan(user):
        raise Denied("edit")
    choices, targets = _targets(user)
    data = request.POST if request.method == "POST" else None
    initial = {"month": f"{timezone.localdate():%Y-%m}", "currency": "RUB", "deals": 0}
    form = PlanForm(data, initial=initial, targets=choices)
    if data is not None and form.is_valid():
        chosen = targets[form.cleaned_data["target"]]
        is_team = form.cleaned_data["target"].startswith("t")
        try:
            plans.set_plan(
                user,
                form.cleaned_data["month"],
                owner=None if is_team else chosen,
                team=chosen if is_team else None,
                amount=form.cleaned_data["amount"],
                currency=form.cleaned_data["currency"],
                deals=form.cleaned_data["deals"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The plan is saved."))
            return redirect("sales:plans")
    try:
        filters = reports.build_filters(user, request.GET)
    except ValidationError:
        filters = reports.Filters.default()
    rows = plans.visible_plans(user).filter(month__gte=filters.start, month__lte=filters.end)
    shown = list(rows.order_by("month", "team__name", "owner__username")[:1000])
    settable = plans.settable(user, shown)
    for plan in shown:
        plan.editable = plan.pk in settable  # type: ignore[attr-defined]
    context = {"form": form, "plans": shown, "filters": filters}
    return render(request, "sales/reports/plans.html", context, status=422 if form.errors else 200)


@require_POST
def plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    plan = get_object_or_404(plans.visible_plans(user), pk=pk)
    plans.delete_plan(user, plan)
    messages.success(request, _("The plan is deleted."))
    return redirect("sales:plans")


def _bars(rows: list[Any], attribute: str) -> int:
    """The largest value among the rows: the max of their <progress> bars."""
    return max([getattr(r, attribute) or 0 for r in rows] + [1])


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    errors: dict[str, list[str]] = {}
    try:
        filters = reports.build_filters(user, request.GET)
    except ValidationError as exc:
        errors = field_errors(exc)
        filters = reports.Filters.default()
    pipelines = list(Pipeline.objects.filter(is_active=True))
    pipeline = filters.pipeline or (pipelines[0] if pipelines else None)
    forecast = reports.forecast(user, filters)
    funnel = reports.funnel(user, filters, pipeline) if pipeline else []
    losses = reports.losses(user, filters)
    context = {
        "errors": errors,
        "values": {k: str(request.GET.get(k, ""))[:20] for k in FILTER_KEYS},
        "filters": filters,
        "period": (f"{filters.start:%Y-%m}", f"{filters.end:%Y-%m}"),
        "pipelines": pipelines,
        "pipeline": pipeline,
        "owners": reports.choosable_owners(user),
        "teams": reports.choosable_teams(user),
        "plan_fact": plans.plan_vs_fact(user, filters),
        "forecast": forecast[:-1],
        "undated": forecast[-1],
        "forecast_max": _bars(forecast, "deals"),
        "outcomes": reports.outcomes(user, filters),
        "funnel": funnel,
        "funnel_max": _bars(funnel, "reached"),
        "losses": losses,
        "losses_max": _bars(losses, "deals"),
        "managers": reports.per_manager(user, filters),
        "can_plan": plans.may_plan(user),
        "chosen": {k: parse_id(request.GET.get(k)) for k in ("pipeline", "owner", "team")},
    }
    return render(request, "sales/reports/overview.html", context, status=422 if errors else 200)
