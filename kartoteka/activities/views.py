"""Logging interactions from the card without a page reload (htmx)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from kartoteka.activities import services
from kartoteka.activities.forms import (
    InteractionForm,
    QuickCallForm,
    QuickNoteForm,
    ServiceForm,
    TimelineFilter,
)
from kartoteka.activities.models import Interaction
from kartoteka.clients.views import get_client, timeline_page
from kartoteka.core import permissions
from kartoteka.core.forms import add_service_errors
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor

FORMS: dict[str, type[ServiceForm]] = {
    "call": QuickCallForm,
    "note": QuickNoteForm,
    "any": InteractionForm,
}


@require_POST
def log(request: HttpRequest, pk: int, form_name: str) -> HttpResponse:
    """Log an interaction; answer with the refreshed timeline, or the form with its errors."""
    client = get_client(request, pk)
    permissions.require(actor(request), Action.CREATE, Interaction)
    form_class = FORMS.get(form_name)
    if form_class is None:
        raise Http404
    form = form_class(request.POST, prefix=form_name)
    if form.is_valid():
        try:
            services.log_interaction(actor(request), client, form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
    status = 422 if form.errors else 200
    context = {
        "client": client,
        "form": form if form.errors else form_class(prefix=form_name),
        "form_name": form_name,
        "page": timeline_page(request, client, TimelineFilter(), None),
        "timeline_filter": TimelineFilter(),
        "logged": not form.errors,
    }
    return render(request, "activities/_logged.html", context, status=status)
