"""Pages for personal data: a subject's data as JSON or PDF, erasure, retention rules."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kartoteka.clients import privacy
from kartoteka.clients.models import Client, RetentionRule
from kartoteka.core import permissions
from kartoteka.core.forms import StyledForm, clean_text, style
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor


def _attachment(content: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def subject_request(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """Everything stored about the client: a data-protection task, for administrators."""
    permissions.require(actor(request), Action.CONFIGURE)
    client = permissions.get_or_404(actor(request), Action.VIEW, Client.all_objects.all(), pk=pk)
    data = privacy.subject_request(actor(request), client)
    if fmt == "pdf":
        return _attachment(privacy.subject_pdf(data), f"client-{client.pk}.pdf", "application/pdf")
    body = json.dumps(data, ensure_ascii=False, indent=2).encode()
    return _attachment(body, f"client-{client.pk}.json", "application/json")


@require_POST
def erase(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require(actor(request), Action.CONFIGURE)
    client = permissions.get_or_404(actor(request), Action.VIEW, Client.all_objects.all(), pk=pk)
    if request.POST.get("confirm", "").strip().lower() not in {"erase", _("erase")}:
        messages.error(request, _("Type “erase” to confirm: erasure cannot be undone."))
        return redirect("clients:card", pk=client.pk)
    privacy.erase_client(actor(request), client, clean_text(request.POST.get("reason", ""), 500))
    messages.success(
        request, _("Personal data erased; amounts and dates are kept for the reports.")
    )
    return redirect("clients:card", pk=client.pk)


class RetentionForm(StyledForm):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        current = dict(RetentionRule.objects.values_list("kind", "days"))
        for kind, label in RetentionRule.Kind.choices:
            self.fields[kind] = forms.IntegerField(
                label=label,
                required=False,
                min_value=1,
                max_value=36500,
                initial=current.get(kind),
                help_text=_("days; empty: keep"),
            )
        style(self)


def retention(request: HttpRequest) -> HttpResponse:
    permissions.require(actor(request), Action.CONFIGURE)
    form = RetentionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for kind, days in form.cleaned_data.items():
            if days:
                RetentionRule.objects.update_or_create(kind=kind, defaults={"days": days})
            else:
                RetentionRule.objects.filter(kind=kind).delete()
        messages.success(request, _("Saved; the rules are applied every night."))
        return redirect("clients:retention")
    return render(
        request,
        "clients/settings_retention.html",
        {"form": form},
        status=422 if form.errors else 200,
    )
