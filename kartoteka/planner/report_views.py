"""Pages of the planner's reports: the team report, and contact-frequency rules with the
clients out of rule per manager."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client, Tag
from kartoteka.core import permissions
from kartoteka.core.forms import IdsChoiceField, StyledForm, add_service_errors
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor
from kartoteka.planner import rules
from kartoteka.planner.forms import DATE
from kartoteka.planner.models import ContactRule, Task
from kartoteka.planner.team_report import team_report
from kartoteka.segments.models import Segment
from kartoteka.segments.queries import visible_segments

MAX_PERIOD = dt.timedelta(days=366)


class PeriodForm(StyledForm):
    start = forms.DateField(label=gettext_lazy("from"), widget=DATE, required=False)
    end = forms.DateField(label=gettext_lazy("to"), widget=DATE, required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        today = timezone.localdate()
        data["start"] = data.get("start") or today.replace(day=1)
        data["end"] = data.get("end") or today
        if data["end"] < data["start"] or data["end"] - data["start"] > MAX_PERIOD:
            self.add_error("end", _("The end must be after the start, within a year."))
        return data


@require_GET
def team(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    # Without a period asked for, this month so far — shown in the form, not only applied.
    data = request.GET or {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}
    form = PeriodForm(data)
    rows = (
        team_report(actor(request), form.cleaned_data["start"], form.cleaned_data["end"])
        if form.is_valid()
        else []
    )
    return render(
        request,
        "planner/team_report.html",
        {"form": form, "rows": rows},
        status=200 if form.is_valid() else 422,
    )


class RuleForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("name"), max_length=200)
    every_days = forms.IntegerField(
        label=gettext_lazy("contact every, days"), min_value=1, max_value=3660
    )
    interaction_kinds = forms.MultipleChoiceField(
        label=gettext_lazy("contact by"),
        choices=Interaction.Kind.choices,
        required=False,
        help_text=gettext_lazy("None chosen: any interaction counts."),
    )
    segment = IdsChoiceField(
        label=gettext_lazy("segments"), queryset=Segment.objects.all(), required=False
    )
    abc = forms.MultipleChoiceField(
        label=gettext_lazy("ABC classes"), choices=[(c, c) for c in "ABC"], required=False
    )
    xyz = forms.MultipleChoiceField(
        label=gettext_lazy("XYZ classes"), choices=[(c, c) for c in "XYZ"], required=False
    )
    tags = IdsChoiceField(label=gettext_lazy("tags"), queryset=Tag.objects.all(), required=False)
    stage = forms.MultipleChoiceField(
        label=gettext_lazy("stages"), choices=Client.Stage.choices, required=False
    )
    source = forms.MultipleChoiceField(
        label=gettext_lazy("sources"), choices=Client.Source.choices, required=False
    )
    kind = forms.MultipleChoiceField(
        label=gettext_lazy("kinds"), choices=Client.Kind.choices, required=False
    )
    owner = IdsChoiceField(
        label=gettext_lazy("owners"), queryset=User.objects.filter(is_active=True), required=False
    )
    auto_task = forms.BooleanField(label=gettext_lazy("create tasks automatically"), required=False)
    task_kind = forms.ChoiceField(
        label=gettext_lazy("task kind"), choices=Task.Kind.choices, initial=Task.Kind.CALL
    )

    def rule_fields(self) -> dict:
        data = self.cleaned_data
        criteria = {
            "segment": [s.pk for s in data["segment"]],
            "abc": list(data["abc"]),
            "xyz": list(data["xyz"]),
            "tags": [t.pk for t in data["tags"]],
            "stage": list(data["stage"]),
            "source": list(data["source"]),
            "kind": list(data["kind"]),
            "owner": [u.pk for u in data["owner"]],
        }
        return {
            "name": data["name"],
            "every_days": data["every_days"],
            "interaction_kinds": list(data["interaction_kinds"]),
            "criteria": criteria,
            "auto_task": data["auto_task"],
            "task_kind": data["task_kind"],
        }


@require_http_methods(["GET", "POST"])
def contact_rules(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    can_configure = permissions.can(user, Action.CONFIGURE)
    form = RuleForm(request.POST or None)
    form.fields["segment"].queryset = visible_segments(user)  # type: ignore[attr-defined]
    status = 200
    if request.method == "POST":
        permissions.require(user, Action.CONFIGURE)
        if form.is_valid():
            try:
                rules.save_rule(user, None, form.rule_fields())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The rule is saved."))
                return redirect("planner:rules")
        status = 422
    every = list(ContactRule.objects.filter(is_active=True))
    reports = [(rule, rules.report(user, rule)) for rule in every]
    context = {"form": form, "reports": reports, "can_configure": can_configure}
    return render(request, "planner/rules.html", context, status=status)


@require_GET
def rule_clients(request: HttpRequest, pk: int) -> HttpResponse:
    """The first clients out of a rule that the user may see (one owner's, if asked)."""
    user = actor(request)
    rule = get_object_or_404(ContactRule, pk=pk)
    visible = permissions.scope(user, Action.VIEW, Client.objects.all())
    rows = rules.out_of_rule(rule, visible)
    owner = request.GET.get("owner", "")
    if owner.isdigit() and len(owner) < 19:
        rows = rows.filter(owner_id=int(owner))
    elif owner == "none":
        rows = rows.filter(owner__isnull=True)
    clients = list(
        rows.order_by("last_contact_at", "id").only("id", "name", "last_contact_at", "owner_id")[
            :100
        ]
    )
    return render(request, "planner/_rule_clients.html", {"rule": rule, "clients": clients})
