"""Contact-centre settings for administrators: call results, break reasons, operators, queues."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.callcenter import operators, services
from kartoteka.callcenter.forms import (
    BreakReasonForm,
    CallbackDefaultForm,
    DispositionForm,
    OperatorEditForm,
    OperatorForm,
    QueueForm,
)
from kartoteka.callcenter.models import (
    BreakReason,
    CallbackSettings,
    Disposition,
    Operator,
    Queue,
)
from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.forms import add_service_errors
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor

STALE = _lazy("Someone else changed this meanwhile; the form shows the current values.")

KINDS: dict[str, tuple[type[Model], Any]] = {
    "results": (Disposition, DispositionForm),
    "breaks": (BreakReason, BreakReasonForm),
    "operators": (Operator, OperatorForm),
    "queues": (Queue, QueueForm),
}


def _callback_form(data: Any = None) -> CallbackDefaultForm:
    current = CallbackSettings.current()
    initial = {"default_user": current.default_user_id, "version": current.version}
    return CallbackDefaultForm(data, initial=initial, prefix="callbacks")


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
    forms = {kind: form_class(prefix=kind) for kind, (_model, form_class) in KINDS.items()}
    return {**forms, "callbacks": _callback_form()}


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
    if form.is_valid():
        try:
            if kind == "operators":
                operators.add_operator(actor(request), form.cleaned_data)
            else:
                services.add_setting(actor(request), form)
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        return _page(request, {**_empty_forms(), kind: form}, status=422)
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


def _stale_form(form: Any) -> Any:
    """The current values, bound so the message shows, with the stale warning on top."""
    bound = type(form)(
        {form.add_prefix(k): v for k, v in form.initial.items()},
        initial=form.initial,
        prefix=form.prefix,
    )
    bound.is_valid()
    bound.add_error(None, str(STALE))
    return bound


def _operator_page(
    request: HttpRequest, operator: Operator, form: OperatorEditForm, status: int = 200
) -> HttpResponse:
    context = {"operator": operator, "form": form, "history": operators.has_history(operator)}
    return render(request, "callcenter/operator_edit.html", context, status=status)


def _operator_form(operator: Operator, data: Any = None) -> OperatorEditForm:
    initial = {
        "user": operator.user_id,
        "extension": operator.extension,
        "acw_seconds": operator.acw_seconds,
        "version": operator.version,
    }
    return OperatorEditForm(data, initial=initial)


@require_http_methods(["GET", "POST"])
def edit_operator(request: HttpRequest, pk: int) -> HttpResponse:
    """An operator's extension, after-call-work limit and user, saved with the version read."""
    user = actor(request)
    permissions.require(user, Action.CONFIGURE)
    operator = get_object_or_404(Operator.objects.select_related("user"), pk=pk)
    if request.method != "POST":
        return _operator_page(request, operator, _operator_form(operator))
    form = _operator_form(operator, request.POST)
    status = 422
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            operators.update_operator(user, operator, data.pop("version"), data)
        except StaleVersion:
            operator.refresh_from_db()
            form, status = _stale_form(_operator_form(operator)), 409
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        return _operator_page(request, operator, form, status=status)
    messages.success(request, _("Saved."))
    return redirect("callcenter:settings")


@require_POST
def remove_operator(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    permissions.require(user, Action.CONFIGURE)
    operator = get_object_or_404(Operator.objects.select_related("user"), pk=pk)
    try:
        outcome = operators.remove_operator(user, operator)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
        return redirect("callcenter:settings")
    if outcome == "deleted":
        messages.success(request, _("The operator is deleted: there were no calls to keep."))
    else:
        messages.success(
            request,
            _("The operator is off the phones; the calls and status history stay with the name."),
        )
    return redirect("callcenter:settings")


@require_POST
def callback_default(request: HttpRequest) -> HttpResponse:
    """Who calls back lost calls nobody else owns."""
    user = actor(request)
    permissions.require(user, Action.CONFIGURE)
    form = _callback_form(request.POST)
    if form.is_valid():
        try:
            operators.save_callback_default(
                user, form.cleaned_data["default_user"], form.cleaned_data["version"]
            )
        except StaleVersion:
            form = _stale_form(_callback_form())
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        return _page(request, {**_empty_forms(), "callbacks": form}, status=422)
    messages.success(request, _("Saved."))
    return redirect("callcenter:settings")
