"""Analytics pages: the dashboards (chart, table, XLSX per chart), the settings (administrators)
with "recompute now", and the client card's classes section.

Thin: `charts` shapes precomputed cells narrowed to what the viewer may see (`access`), the
settings go through `settings_service`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.clients.models import Client
from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.forms import add_service_errors, parse_id, style
from kartoteka.core.permissions import Action, get_or_404
from kartoteka.core.views import actor
from kartoteka.segments import access, charts, dashboards, queries, settings_service
from kartoteka.segments.config import current
from kartoteka.segments.models import AnalyticsConfig
from kartoteka.transfer.writers import file_response


def _page(key: str) -> tuple[Any, list[charts.Builder]]:
    if key not in charts.PAGES:
        raise Http404
    return charts.PAGES[key]


@require_GET
def dashboard(request: HttpRequest, page: str = "overview") -> HttpResponseBase:
    user = actor(request)
    access.require(user)
    title, builders = _page(page)
    filters = dashboards.build_filters(user, request.GET)
    wanted = str(request.GET.get("xlsx", ""))[:20]
    if wanted:
        return _xlsx(user, filters, builders, wanted)
    shown = [build(user, filters) for build in builders]
    config = current()
    context = {
        "page": page,
        "title": title,
        "pages": [(key, label) for key, (label, _b) in charts.PAGES.items()],
        "charts": shown,
        "list_url": reverse("clients:list"),
        "filters": filters,
        "query": urlencode(
            {k: str(request.GET[k])[:20] for k in ("from", "to", "owner") if request.GET.get(k)}
        ),
        "owners": dashboards.choosable_owners(user),
        "config": config,
        "can_configure": permissions.can(user, Action.CONFIGURE),
    }
    status = 422 if filters.errors else 200
    return render(request, "segments/dashboard.html", context, status=status)


def _xlsx(
    user: Any, filters: dashboards.Filters, builders: list[charts.Builder], key: str
) -> HttpResponseBase:
    for build in builders:
        chart = build(user, filters)
        if chart.key == key:
            header, rows = chart.table()
            name = f"{chart.key}-{filters.keys[0]}-{filters.keys[1]}"
            return file_response("xlsx", name, header, rows)
    raise Http404


# --- settings ------------------------------------------------------------------------------------


class SettingsForm(forms.ModelForm):
    class Meta:
        model = AnalyticsConfig
        fields = settings_service.EDITABLE
        labels = {"currency": gettext_lazy("analytics currency")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].widget.attrs.update({"pattern": "[A-Z]{3}", "maxlength": 3})
        style(self)

    def clean_currency(self) -> str:
        value = str(self.cleaned_data["currency"]).strip().upper()
        if len(value) != 3 or not value.isalpha() or not value.isascii():
            raise ValidationError(_("Enter a three-letter currency code, such as RUB."))
        return value


@require_http_methods(["GET", "POST"])
def analytics_settings(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    permissions.require(user, Action.CONFIGURE)
    config = current()
    form = SettingsForm(request.POST or None, instance=config)
    status = 200
    if request.method == "POST":
        expected = parse_id(request.POST.get("version"))
        if form.is_valid() and expected is not None:
            values = {name: form.cleaned_data[name] for name in settings_service.EDITABLE}
            # The form wrote onto `config`; the service reads the row afresh and checks it.
            try:
                settings_service.configure(user, expected, values)
            except StaleVersion:
                form.add_error(None, _("Someone saved the settings meanwhile; reload the page."))
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The settings are saved. Recompute to apply them."))
                return redirect("analytics:settings")
        elif expected is None:
            form.add_error(None, _("The form is out of date; reload it."))
        status = 422
    fresh = current()  # the form may have written onto `config`: show the stored row
    context = {"form": form, "config": fresh, "version": fresh.version}
    return render(request, "segments/settings.html", context, status=status)


@require_POST
def recompute_now(request: HttpRequest) -> HttpResponse:
    settings_service.queue_recompute(actor(request))
    messages.success(request, _("The recompute is queued; the figures change when it ends."))
    return redirect("analytics:settings")


# --- the client card -----------------------------------------------------------------------------


@require_GET
def client_classes(request: HttpRequest, pk: int) -> HttpResponse:
    """The card's section: current ABC, XYZ, RFM, cycle stage and their history (htmx)."""
    client = get_or_404(actor(request), Action.VIEW, Client.objects.only("id", "owner_id"), pk=pk)
    found = queries.card_analytics(client)
    return render(request, "segments/_client_classes.html", {"client": client, **found})
