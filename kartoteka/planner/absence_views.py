"""Absences: mark a colleague away with a substitute; the substitute takes their work over."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kartoteka.accounts.models import User
from kartoteka.core.forms import StyledForm, add_service_errors, parse_id
from kartoteka.core.views import actor
from kartoteka.planner import absence, services
from kartoteka.planner.forms import DATE

USERS = User.objects.filter(is_active=True).order_by("first_name", "username")


class AbsenceForm(StyledForm):
    user = forms.ModelChoiceField(label=gettext_lazy("who is away"), queryset=USERS)
    substitute = forms.ModelChoiceField(label=gettext_lazy("substitute"), queryset=USERS)
    starts_on = forms.DateField(label=gettext_lazy("from"), widget=DATE)
    ends_on = forms.DateField(label=gettext_lazy("to"), widget=DATE)
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=200, required=False)


def _page(request: HttpRequest, form: AbsenceForm, status: int = 200) -> HttpResponse:
    user = actor(request)
    context = {
        "form": form,
        "absences": list(absence.visible_absences(user)[:100]),
        "planned": list(absence.planned_for(user)[:500]),
    }
    return render(request, "planner/absences.html", context, status=status)


@require_GET
def absences(request: HttpRequest) -> HttpResponse:
    return _page(request, AbsenceForm(initial={"user": actor(request).pk}))


@require_POST
def absence_new(request: HttpRequest) -> HttpResponse:
    form = AbsenceForm(request.POST)
    if form.is_valid():
        try:
            absence.mark_absent(actor(request), form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The absence is recorded."))
            return redirect("planner:absences")
    return _page(request, form, status=422)


@require_POST
def absence_end(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(absence.visible_absences(actor(request)), pk=pk)
    absence.end_absence(actor(request), found)
    return redirect("planner:absences")


@require_POST
def take_over(request: HttpRequest) -> HttpResponse:
    """Take the chosen planned tasks of the colleagues one stands in for."""
    user = actor(request)
    ids = [pk for pk in (parse_id(v) for v in request.POST.getlist("task")[:500]) if pk]
    tasks = list(absence.planned_for(user).filter(pk__in=ids))
    count = services.take_over(user, tasks, absence.standing_in_for(user.pk))
    messages.success(request, _("Tasks taken over: %(n)d.") % {"n": count})
    return redirect("planner:absences")
