"""The script on the call card: the step to answer (htmx: answer → next step, back one step)
and the path taken. The card's own access rules apply: whoever sees the call sees the path;
whoever may edit the call (its operator, supervisors) answers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from kartoteka.callcenter import queries
from kartoteka.callcenter.models import Call
from kartoteka.callscripts import runner
from kartoteka.callscripts.runner import State
from kartoteka.core.errors import field_errors
from kartoteka.core.forms import clean_text, parse_id
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor

TEMPLATE = "callscripts/_run.html"


def context(
    state: State | None, call: Call, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"state": state, "call": call, "script_errors": errors or {}}


@require_GET
def show(request: HttpRequest, pk: int) -> HttpResponse:
    call = queries.card(actor(request), pk)
    return render(request, TEMPLATE, context(runner.state(actor(request), call), call))


@require_POST
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    call = queries.card(user, pk, Action.EDIT)
    was_finished = False
    try:
        state = runner.answer(
            user,
            call,
            parse_id(request.POST.get("script")),
            parse_id(request.POST.get("step")),
            parse_id(request.POST.get("option")),
            clean_text(request.POST.get("value", ""), runner.MAX_ANSWER + 1),
        )
        was_finished = state.finished
    except ValidationError as exc:
        page = context(runner.state(user, call), call, field_errors(exc))
        return _reply(request, render(request, TEMPLATE, page, status=422), call)
    if was_finished and getattr(request, "htmx", False):
        return HttpResponseClientRefresh()  # the card's result field shows the suggestion
    return _reply(request, render(request, TEMPLATE, context(state, call)), call)


@require_POST
def back(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    call = queries.card(user, pk, Action.EDIT)
    try:
        state = runner.back(user, call)
    except ValidationError as exc:
        page = context(runner.state(user, call), call, field_errors(exc))
        return _reply(request, render(request, TEMPLATE, page, status=422), call)
    return _reply(request, render(request, TEMPLATE, context(state, call)), call)


def _reply(request: HttpRequest, fragment: HttpResponse, call: Call) -> HttpResponse:
    """htmx swaps the fragment in; a plain form post (no JavaScript) goes back to the card."""
    if getattr(request, "htmx", False) or fragment.status_code != 200:
        return fragment
    return redirect("callcenter:card", pk=call.pk)
