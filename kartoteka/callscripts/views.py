"""The script editor for supervisors: the list (and its trash), a script with its steps as an
ordered list with "→ step N" links, and a step with its options. Thin: services write."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kartoteka.callcenter import access
from kartoteka.callcenter.models import Disposition
from kartoteka.callscripts import services
from kartoteka.callscripts.forms import OptionFormSet, ScriptForm, StepForm, step_data
from kartoteka.callscripts.models import Script, Step
from kartoteka.core.errors import StaleVersion
from kartoteka.core.forms import add_service_errors, parse_id
from kartoteka.core.views import actor

STALE = gettext_lazy(
    "Someone else changed this script while you were editing it; reload and try again."
)


def _script(request: HttpRequest, pk: int) -> Script:
    access.require_runs_centre(actor(request))
    return get_object_or_404(Script, pk=pk)


@require_http_methods(["GET", "POST"])
def script_list(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    access.require_runs_centre(user)
    form = ScriptForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            script = services.create_script(user, services.script_data(form.cleaned_data))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Script created: now add its steps."))
            return redirect("callscripts:edit", pk=script.pk)
    context = {
        "form": form,
        "scripts": Script.objects.prefetch_related("queues"),
        "trashed": Script.all_objects.filter(deleted_at__isnull=False).order_by("-deleted_at")[:50],
    }
    return render(request, "callscripts/list.html", context, status=422 if form.errors else 200)


def _editor(request: HttpRequest, script: Script, **forms: Any) -> dict[str, Any]:
    steps = services.live_steps(script)
    numbers = services.step_numbers(steps)
    names = {d.pk: d.name for d in Disposition.objects.all()}
    for step in steps:
        step.number = numbers[step.pk]  # type: ignore[attr-defined]
        step.next_number = numbers.get(step.next_step_id or 0)  # type: ignore[attr-defined]
        step.no_number = numbers.get(step.no_step_id or 0)  # type: ignore[attr-defined]
        step.result = names.get(step.disposition_id or 0)  # type: ignore[attr-defined]
        step.choices = [  # type: ignore[attr-defined]
            (o.label, numbers.get(o.next_step_id or 0), o.next_step_id) for o in step.options.all()
        ]
    initial = {
        "name": script.name,
        "direction": script.direction,
        "queues": list(script.queues.all()),
        "is_active": script.is_active,
        "version": script.version,
    }
    return {
        "script": script,
        "steps": steps,
        "problems": services.graph.check(services.nodes(steps)),
        "form": forms.get("form") or ScriptForm(initial=initial),
        "step_form": forms.get("step_form")
        or StepForm(numbers=numbers, initial={"version": script.version, "kind": "choice"}),
        "options": forms.get("options")
        or OptionFormSet(prefix="o", form_kwargs={"numbers": numbers}),
        "kinds": Step.Kind,
    }


@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    script = _script(request, pk)
    if request.method == "GET":
        return render(request, "callscripts/edit.html", _editor(request, script))
    form = ScriptForm(request.POST)
    status = 422
    if form.is_valid():
        data = services.script_data(form.cleaned_data)
        try:
            services.update_script(actor(request), script, form.cleaned_data["version"], data)
        except StaleVersion:
            form.add_error(None, STALE)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("callscripts:edit", pk=script.pk)
    return render(
        request, "callscripts/edit.html", _editor(request, script, form=form), status=status
    )


@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, pk: int, step_pk: int | None = None) -> HttpResponse:
    """Add a step (no step_pk) or change one, with its options."""
    script = _script(request, pk)
    current = get_object_or_404(Step, pk=step_pk, script=script) if step_pk else None
    numbers = services.step_numbers(services.live_steps(script))
    kwargs = {"form_kwargs": {"numbers": numbers}, "prefix": "o"}
    if request.method == "GET":
        if current is None:
            return redirect("callscripts:edit", pk=script.pk)
        form = StepForm(numbers=numbers, initial=_step_initial(current, script))
        options = OptionFormSet(initial=_options_initial(current), **kwargs)  # type: ignore[arg-type]
        return _step_page(request, script, current, form, options)
    form = StepForm(request.POST, numbers=numbers)
    options = OptionFormSet(request.POST, **kwargs)  # type: ignore[arg-type]
    status = 422
    if form.is_valid() and options.is_valid():
        data, rows = step_data(form, options)
        try:
            services.save_step(actor(request), script, form.cleaned_data["version"], current, data)
        except StaleVersion:
            form.add_error(None, STALE)
            status = 409
        except ValidationError as exc:
            _option_errors(options, rows, exc)
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("callscripts:edit", pk=script.pk)
    if current is None:
        page = _editor(request, script, step_form=form, options=options)
        return render(request, "callscripts/edit.html", page, status=status)
    return _step_page(request, script, current, form, options, status)


def _option_errors(options: Any, rows: list[int], exc: ValidationError) -> None:
    """Errors of "options.N.field" go on the formset's row N; the rest stay for the form."""
    if not hasattr(exc, "error_dict"):
        return
    for key in [k for k in exc.error_dict if k.startswith("options.")]:
        _prefix, index, name = ([*key.split("."), "", ""])[:3]
        row = rows[int(index)] if index.isdigit() and int(index) < len(rows) else None
        for message in exc.error_dict.pop(key):
            if row is not None and name in options.forms[row].fields:
                options.forms[row].add_error(name, message)
            else:
                options.forms[0].add_error(None, message)


def _step_initial(current: Step, script: Script) -> dict[str, Any]:
    return {
        "text": current.text,
        "kind": current.kind,
        "position": current.position,
        "next_step": current.next_step_id,
        "no_step": current.no_step_id,
        "disposition": current.disposition_id,
        "version": script.version,
    }


def _options_initial(current: Step) -> list[dict[str, Any]]:
    return [
        {"id": o.pk, "label": o.label, "next_step": o.next_step_id} for o in current.options.all()
    ]


def _step_page(
    request: HttpRequest, script: Script, current: Step, form: Any, options: Any, status: int = 200
) -> HttpResponse:
    number = services.step_numbers(services.live_steps(script)).get(current.pk)
    context = {
        "script": script,
        "step": current,
        "number": number,
        "form": form,
        "options": options,
    }
    return render(request, "callscripts/step.html", context, status=status)


@require_POST
def delete_step(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    script = _script(request, pk)
    current = get_object_or_404(Step, pk=step_pk, script=script)
    version = parse_id(request.POST.get("version"))
    try:
        services.delete_step(actor(request), script, version, current)
    except StaleVersion:
        messages.error(request, STALE)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The step is deleted."))
    return redirect("callscripts:edit", pk=script.pk)


@require_POST
def trash(request: HttpRequest, pk: int) -> HttpResponse:
    script = _script(request, pk)
    services.trash_script(actor(request), script)
    messages.success(request, _("“%(name)s” is in the trash.") % {"name": script.name})
    return redirect("callscripts:list")


@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_runs_centre(actor(request))
    script = get_object_or_404(Script.all_objects.filter(deleted_at__isnull=False), pk=pk)
    services.restore_script(actor(request), script)
    messages.success(request, _("“%(name)s” is restored (not in use).") % {"name": script.name})
    return redirect("callscripts:edit", pk=script.pk)
