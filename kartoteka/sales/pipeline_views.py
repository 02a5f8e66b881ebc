"""Administrators' pages for a pipeline's stages: change, add, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from kartoteka.core import permissions
from kartoteka.core.forms import add_service_errors
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor
from kartoteka.sales import stages
from kartoteka.sales.forms import StageForm
from kartoteka.sales.models import Pipeline, Stage


def _initial(stage: Stage) -> dict[str, object]:
    fields = ("name", "position", "probability", "kind", "required_fields")
    return {name: getattr(stage, name) for name in fields}


@require_http_methods(["GET", "POST"])
def pipeline_stages(request: HttpRequest, pk: int) -> HttpResponse:
    """Every stage as its own small form, and one more to add a stage."""
    user = actor(request)
    permissions.require(user, Action.CONFIGURE)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    posted = request.POST.get("stage", "") if request.method == "POST" else None
    forms = []
    for stage in pipeline.stages.all():
        bound = posted == str(stage.pk)
        form = StageForm(
            request.POST if bound else None, initial=_initial(stage), prefix=f"s{stage.pk}"
        )
        forms.append((stage, form))
    adding = StageForm(request.POST if posted == "new" else None, prefix="new")
    adding.fields["position"].initial = len(forms)
    chosen = next((f for s, f in forms if posted == str(s.pk)), adding if posted == "new" else None)
    if chosen is not None and chosen.is_valid():
        target = next((s for s, f in forms if f is chosen), None)
        try:
            stages.save_stage(user, pipeline, target, chosen.cleaned_data)
        except ValidationError as exc:
            add_service_errors(chosen, exc)
        else:
            messages.success(request, _("The stage is saved."))
            return redirect("sales:pipeline_stages", pipeline.pk)
    status = 422 if chosen is not None and chosen.errors else 200
    context = {"pipeline": pipeline, "forms": forms, "adding": adding}
    return render(request, "sales/pipeline_stages.html", context, status=status)


@require_POST
def stage_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    permissions.require(user, Action.CONFIGURE)
    stage = get_object_or_404(Stage, pk=pk)
    try:
        stages.delete_stage(user, stage)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The stage is deleted."))
    target = reverse("sales:pipeline_stages", args=[stage.pipeline_id])
    htmx = getattr(request, "htmx", False)
    return HttpResponseClientRedirect(target) if htmx else redirect(target)
