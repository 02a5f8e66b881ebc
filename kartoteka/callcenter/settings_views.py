"""Contact-centre settings for administrators: call results, break reasons, operators, queues."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kartoteka.callcenter import services
from kartoteka.callcenter.forms import BreakReasonForm, DispositionForm, OperatorForm, QueueForm
from kartoteka.callcenter.models import BreakReason, Disposition, Operator, Queue
from kartoteka.core import permissions
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor

KINDS: dict[str, tuple[type[Model], Any]] = {
    "results": (Disposition, DispositionForm),
    "breaks": (BreakReason, BreakReasonForm),
    "operators": (Operator, OperatorForm),
    "queues": (Queue, QueueForm),
}


def _page(request: HttpRequest, forms: dict[str, Any], status: int = 200) -> HttpResponse:
    context = {
        "forms": forms,
        "results": Disposition.objects.all(),
        "breaks": BreakReason.objects.all(),
        "operators": Operator.objects.select_related("user").order_by("extension"),
        "queues": Queue.objects.select_related("callback_user"),
    }
    return render(request, "callcenter/settings.html", context, status=status)


def _empty_forms() -> dict[str, Any]:
    return {kind: form_class(prefix=kind) for kind, (_model, form_class) in KINDS.items()}


@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    permissions.require(actor(request), Action.CONFIGURE)
    return _page(request, _empty_forms())


@require_POST
def add(request: HttpRequest, kind: str) -> HttpResponse:
    permissions.require(actor(request), Action.CONFIGURE)
    if kind not in KINDS:
        raise Http404
    form = KINDS[kind][1](request.POST, prefix=kind)
    if not form.is_valid():
        return _page(request, {**_empty_forms(), kind: form}, status=422)
    services.add_setting(actor(request), form)
    messages.success(request, _("Saved."))
    return redirect("callcenter:settings")


@require_POST
def toggle(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Results and break reasons go out of use (calls keep them); operators and queues go."""
    user = actor(request)
    permissions.require(user, Action.CONFIGURE)
    if kind not in KINDS or kind == "operators":  # an operator's history stays
        raise Http404
    row = get_object_or_404(KINDS[kind][0], pk=pk)
    if isinstance(row, Disposition | BreakReason):
        services.toggle_setting(user, row)
    else:
        services.remove_setting(user, row)  # type: ignore[arg-type]
    messages.success(request, _("Saved."))
    return redirect("callcenter:settings")
