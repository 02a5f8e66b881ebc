"""Export pages: ask for an export of the list, download it, approve others' big exports."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kartoteka.core.forms import clean_text
from kartoteka.core.views import actor
from kartoteka.transfer import services
from kartoteka.transfer.models import Export
from kartoteka.transfer.writers import file_response


@require_POST
def export_list(request: HttpRequest) -> HttpResponse:
    query = clean_text(request.POST.get("query", ""), 2000)
    try:
        export = services.request_export(actor(request), query, request.POST.get("format", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("clients:list") + (f"?{query}" if query else ""))
    if export.status == Export.Status.PENDING:
        messages.info(
            request,
            _("%(n)d rows is over your daily limit: the export waits for approval.")
            % {"n": export.rows},
        )
    return redirect("exports")


@require_GET
def exports(request: HttpRequest) -> HttpResponse:
    me = actor(request)
    context = {
        "mine": services.history(me),
        "pending": services.pending_for(me),
        "left": max(services.daily_limit(me) - services.used_today(me), 0),
        "unlimited": services.daily_limit(me) >= services.UNLIMITED,
    }
    return render(request, "transfer/exports.html", context)


@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    export = get_object_or_404(Export, pk=pk)
    services.decide(actor(request), export, request.POST.get("decision") == "approve")
    return redirect("exports")


@require_GET
def download(request: HttpRequest, pk: int) -> HttpResponseBase:
    export = get_object_or_404(Export, pk=pk, user=actor(request))
    try:
        header, rows = services.download(actor(request), export)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("exports")
    return file_response(export.format, f"clients-{export.pk}", header, rows)
