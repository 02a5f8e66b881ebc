"""Client pages: the list, the card, the trash. Thin: queries read, services write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kartoteka.accounts.models import User
from kartoteka.accounts.roles import FIELD_GROUPS
from kartoteka.activities import queries as timeline_queries
from kartoteka.activities.forms import InteractionForm, QuickCallForm, QuickNoteForm, TimelineFilter
from kartoteka.activities.models import Interaction
from kartoteka.clients import field_rules, queries
from kartoteka.clients.forms import ConsentForm, LinkForm
from kartoteka.clients.models import (
    Client,
    ClientEvent,
    Consent,
    CustomField,
    SavedView,
)
from kartoteka.clients.validators import format_phone
from kartoteka.core import alerts, permissions
from kartoteka.core.pagination import BadCursor, Page
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor, render_page
from kartoteka.sales import queries as sales_queries
from kartoteka.sales.models import Deal

COLLEAGUES_PERIOD = dt.timedelta(days=90)
CARD_DEALS = 20


def get_client(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> Client:
    return permissions.get_or_404(
        actor(request), action, Client.objects.select_related("owner"), pk=pk
    )


def _columns(
    request: HttpRequest, custom_fields: list[CustomField], hidden: set[str]
) -> list[tuple[str, Any]]:
    available = dict(_all_columns(custom_fields, hidden))
    chosen = [c for c in request.GET.getlist("col") if c in available] or [
        c for c in queries.DEFAULT_COLUMNS if c in available
    ]
    if "name" not in chosen:
        chosen = ["name", *chosen]
    return [(c, available[c]) for c in chosen]


@require_GET
def client_list(request: HttpRequest) -> HttpResponse:
    # Always bound: an empty query string is the default list, and it validates.
    form = queries.ClientFilter(request.GET, user=actor(request))
    columns = _columns(request, form.custom_fields, form.hidden)
    rows: list[Client] = []
    next_cursor = None
    searched = False
    if form.is_valid():
        try:
            result = queries.list_clients(
                actor(request),
                form,
                request.GET.get("cursor"),
                settings.LIST_PAGE_SIZE,
                [key for key, _label in columns],
            )
        except BadCursor:
            form.add_error(
                None, _("This page link is out of date; start again from the first page.")
            )
        else:
            if isinstance(result, Page):
                rows, next_cursor = result.rows, result.next_cursor
            else:
                rows, searched = list(result), True
    if any(c == "tags" for c, _l in columns):
        _attach_tags(rows)
    next_query = request.GET.copy()
    next_query["cursor"] = next_cursor or ""
    context = {
        "form": form,
        "rows": rows,
        "columns": columns,
        "next_cursor": next_cursor,
        "next_query": next_query.urlencode(),
        "searched": searched,
        "search_cap": len(rows) >= settings.LIST_PAGE_SIZE,
        "page_size": settings.LIST_PAGE_SIZE,
        "all_columns": _all_columns(form.custom_fields, form.hidden),
        "owners": User.objects.filter(is_active=True).order_by("first_name", "username"),
        "saved_views": SavedView.objects.filter(user=actor(request)),
        "query": _without(request.GET, "cursor"),
        "sorts": _sorts(form.custom_fields),
        "can_reassign": permissions.scope_of(actor(request), "client", Action.REASSIGN) > 0,
        "can_export": permissions.scope_of(actor(request), "client", Action.EXPORT) > 0,
    }
    partial = "clients/_rows.html" if request.GET.get("cursor") else "clients/_results.html"
    return render_page(request, "clients/list.html", context, partial)


def _without(query: QueryDict, *keys: str) -> str:
    copy = query.copy()
    for key in keys:
        copy.pop(key, None)
    return copy.urlencode()


def _sorts(custom_fields: list[CustomField]) -> list[tuple[str, str]]:
    keys = [(k, str(label)) for k, label in queries.SORTS.items()]
    keys += [(f"custom.{f.key}", f.label) for f in custom_fields]
    return [
        item for key, label in keys for item in ((key, f"{label} ↑"), (f"-{key}", f"{label} ↓"))
    ]


def _all_columns(custom_fields: list[CustomField], hidden: set[str]) -> list[tuple[str, Any]]:
    return list(queries.visible_columns(hidden).items()) + [
        (f"custom.{f.key}", f.label) for f in custom_fields
    ]


def _attach_tags(rows: list[Client]) -> None:
    through = Client.tags.through.objects.filter(client_id__in=[r.pk for r in rows]).select_related(
        "tag"
    )
    by_client: dict[int, list[str]] = {}
    for link in through:
        by_client.setdefault(link.client_id, []).append(link.tag.name)
    for row in rows:
        row.tag_names = sorted(by_client.get(row.pk, []))  # type: ignore[attr-defined]


def _consents_in_force(client: Client) -> list[Consent]:
    latest: dict[tuple[str, str], Consent] = {}
    for consent in client.consents.all():
        latest.setdefault((consent.channel, consent.purpose), consent)
    return list(latest.values())


def _history(client: Client, hidden: set[str]) -> list[ClientEvent]:
    """The card's recent history, less the changes of fields the viewer may not see."""
    events = list(ClientEvent.objects.filter(client=client).select_related("actor")[:30])
    for event in events:
        if isinstance(event.changes, dict):
            event.changes = {k: v for k, v in event.changes.items() if k not in hidden}
    return events


def _field_labels(custom_fields: list[CustomField]) -> dict[str, str]:
    """Names of the fields history rows mention, in the reader's language."""
    labels = {f.name: str(getattr(f, "verbose_name", f.name)) for f in Client._meta.get_fields()}
    labels.update({"phones": _("phones"), "emails": _("e-mails"), "tags": _("tags")})
    labels.update({f"custom.{f.key}": f.label for f in custom_fields})
    return labels


def card_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    phones = [(p, format_phone(p.e164)) for p in client.phones.all()]
    user = actor(request)
    links = queries.links_of(client, user)
    colleagues = timeline_queries.colleagues(client, user, timezone.now() - COLLEAGUES_PERIOD)
    all_custom = list(CustomField.objects.all())
    hidden = field_rules.hidden_fields(user, all_custom)
    custom_fields = [
        f for f in all_custom if f.applies(client.kind) and f"custom.{f.key}" not in hidden
    ]
    timeline_filter = TimelineFilter(request.GET or None)
    return {
        "client": client,
        "phones": phones,
        "emails": list(client.emails.all()),
        "tags": list(client.tags.all()),
        "links": list(links),
        "custom": [(f, client.custom.get(f.key)) for f in custom_fields if f.key in client.custom],
        "consents": _consents_in_force(client),
        "events": _history(client, hidden),
        "colleagues": colleagues,
        "field_labels": _field_labels(all_custom),
        "owner_is_colleague": any(c["id"] == client.owner_id for c in colleagues),
        "page": timeline_page(request, client, timeline_filter, request.GET.get("cursor")),
        "timeline_filter": timeline_filter,
        # Prefixes keep the element ids of the forms on one page unique.
        "call_form": QuickCallForm(prefix="call"),
        "note_form": QuickNoteForm(prefix="note"),
        "any_form": InteractionForm(prefix="any"),
        "consent_form": ConsentForm(prefix="consent"),
        "see": {group: permissions.can_see(user, group) for group in FIELD_GROUPS},
        "can_log": permissions.can(user, Action.CREATE, Interaction),
        "can_edit": permissions.can(actor(request), Action.EDIT, client),
        "can_delete": permissions.can(actor(request), Action.DELETE, client),
        "can_subject_request": permissions.can(user, Action.CONFIGURE),
        "deals": list(sales_queries.deals_of(user, client)[:CARD_DEALS]),
        "can_create_deal": permissions.can(user, Action.CREATE, Deal),
    }


def timeline_page(
    request: HttpRequest, client: Client, form: TimelineFilter, cursor: str | None
) -> Page:
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    try:
        return timeline_queries.timeline(
            client,
            actor(request),
            kind=data.get("kind") or "",
            since=data.get("since"),
            until=data.get("until"),
            cursor=cursor,
        )
    except BadCursor:
        return timeline_queries.timeline(client, actor(request))


@require_GET
def client_card(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_client(request, pk)
    alerts.card_viewed(actor(request), client)
    return render(request, "clients/card.html", card_context(request, client))


@require_GET
def timeline(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_client(request, pk)
    form = TimelineFilter(request.GET or None)
    context = {
        "client": client,
        "page": timeline_page(request, client, form, request.GET.get("cursor")),
        "timeline_filter": form,
        "filter_query": _without(request.GET, "cursor"),
    }
    template = (
        "activities/_timeline_rows.html"
        if request.GET.get("cursor")
        else "activities/_timeline.html"
    )
    return render(request, template, context)


@require_GET
def lookup(request: HttpRequest, pk: int) -> HttpResponse:
    """People to link to company `pk`: a search among persons the user may see."""
    from kartoteka.clients import search

    company = get_client(request, pk, Action.EDIT)
    query = request.GET.get("q", "")
    people = (
        search.search(
            queries.visible_clients(actor(request)).filter(kind=Client.Kind.PERSON),
            query,
            limit=10,
        )
        if len(query.strip()) >= 2
        else []
    )
    return render(
        request,
        "clients/_lookup.html",
        {"client": company, "people": people, "link_form": LinkForm()},
    )


@require_GET
def trash(request: HttpRequest) -> HttpResponse:
    rows = permissions.scope(
        actor(request), Action.RESTORE, Client.all_objects.filter(deleted_at__isnull=False)
    )
    page = rows.order_by("-deleted_at", "-id")[:200]
    return render(request, "clients/trash.html", {"rows": page})
