"""Sales pages: the kanban, the list, the deal card and its forms, pipelines. Thin: queries read,
services write, the permissions engine decides."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from kartoteka.accounts.models import User
from kartoteka.clients import queries as client_queries
from kartoteka.clients.field_rules import hidden_fields
from kartoteka.clients.models import Client
from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.forms import add_service_errors, parse_id
from kartoteka.core.pagination import BadCursor, decode_cursor, encode_cursor, keyset_page
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor, render_page
from kartoteka.sales import queries, services
from kartoteka.sales.forms import AskForm, BlueprintForm, DealFilter, DealForm
from kartoteka.sales.models import Deal, Pipeline, Stage

CARD_RELATED = ("pipeline", "stage", "client", "owner", "loss_reason")
PAGE = settings.LIST_PAGE_SIZE


# --- the board --------------------------------------------------------------------------------


def _filtered(user: User, form: DealFilter, *, board: bool = True) -> QuerySet[Deal]:
    arguments = form.arguments(user)
    if board:  # a column is a stage: the stage and status filters belong to the list
        arguments.pop("stage")
        arguments.pop("status")
    return queries.filter_deals(queries.visible_deals(user), **arguments)


def _filter_query(form: DealFilter, pipeline: Pipeline | None) -> str:
    query = QueryDict(mutable=True)
    data = form.cleaned_data if form.is_valid() else {}
    if pipeline is not None:
        query["pipeline"] = str(pipeline.pk)
    for key in ("owner", "q"):
        if data.get(key):
            query[key] = data[key]
    return query.urlencode()


def _mark(user: User, deals: list[Deal]) -> None:
    """May the user move each card? (Rights are cached on the user: no query per card.)"""
    for deal in deals:
        deal.editable = permissions.can(user, Action.EDIT, deal)  # type: ignore[attr-defined]


def _cursor(deals: list[Deal]) -> str:
    return encode_cursor([deals[-1].updated_at, deals[-1].pk]) if deals else ""


def _columns(user: User, pipeline: Pipeline, form: DealFilter, only: set[int] | None = None) -> Any:
    deals = _filtered(user, form)
    if only is not None:
        deals = deals.filter(stage__in=only)
    columns = queries.board(user, pipeline, deals)
    if only is not None:
        columns = [c for c in columns if c.stage.pk in only]
    for column in columns:
        _mark(user, column.deals)
        column.cursor = _cursor(column.deals)  # type: ignore[attr-defined]
    return columns


def _owners() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("first_name", "username")


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    every = list(queries.pipelines())
    chosen = parse_id(request.GET.get("pipeline"))
    pipeline = next((p for p in every if p.pk == chosen), every[0] if every else None)
    form = DealFilter(request.GET)
    context = {
        "pipelines": every,
        "pipeline": pipeline,
        "form": form,
        "owners": _owners(),
        "columns": _columns(user, pipeline, form) if pipeline else [],
        "filter_query": _filter_query(form, pipeline),
        "can_create": permissions.can(user, Action.CREATE, Deal),
    }
    return render(request, "sales/board.html", context)


@require_GET
def column(request: HttpRequest, stage_id: int) -> HttpResponse:
    """The next cards of a column ("load more"), after a keyset cursor."""
    user = actor(request)
    stage = get_object_or_404(Stage, pk=stage_id, pipeline__is_active=True)
    form = DealFilter(request.GET)
    try:
        moment, pk = decode_cursor(request.GET.get("after", ""), 2)
        after = (parse_datetime(str(moment)), int(pk))
        if after[0] is None:
            raise BadCursor(moment)
    except (BadCursor, ValueError, TypeError):
        return HttpResponse(_("This link is out of date; reload the board."), status=400)
    base = _filtered(user, form).filter(pipeline_id=stage.pipeline_id)
    rows = list(queries.column_page(base, stage, after))
    deals = rows[: queries.COLUMN_PAGE]
    _mark(user, deals)
    context = {
        "stage": stage,
        "deals": deals,
        "more": len(rows) > queries.COLUMN_PAGE,
        "cursor": _cursor(deals),
        "filter_query": _filter_query(form, None),
    }
    return render(request, "sales/_cards.html", context)


# --- moving a deal ----------------------------------------------------------------------------


def _people(user: User, deal: Deal) -> list[Client]:
    """Who may be the deal's contact persons: its client if a person, or the company's people."""
    if deal.client.kind == Client.Kind.PERSON:
        return [deal.client] if permissions.can(user, Action.VIEW, deal.client) else []
    return [link.person for link in client_queries.links_of(deal.client, user)]


def _asked(exc: ValidationError) -> list[str]:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {}
    return [name for name in services.REQUIRABLE if name in errors]


def _board_answer(
    request: HttpRequest,
    user: User,
    deal: Deal,
    only: set[int] | None,
    message: str,
    level: str,
    event: str,
    status: int = 200,
) -> HttpResponse:
    """Columns swapped in place (out of band), a message, and an event for kanban.js."""
    form = DealFilter(QueryDict(request.POST.get("filters", "")[:2000]))
    context = {
        "columns": _columns(user, deal.pipeline, form, only) if only != set() else [],
        "filter_query": _filter_query(form, None),
        "message": message,
        "level": level,
        "oob": True,
    }
    response = render(request, "sales/_board_answer.html", context, status=status)
    return trigger_client_event(response, event, after="settle")


def _ask(
    request: HttpRequest, deal: Deal, stage: Stage, form: AskForm, status: int
) -> HttpResponse:
    context = {"deal": deal, "stage": stage, "form": form, "filters": request.POST.get("filters")}
    if request.htmx and request.POST.get("filters") is not None:  # type: ignore[attr-defined]
        response = render(request, "sales/_ask.html", context, status=status)
        return trigger_client_event(response, "kanban:ask", after="settle")
    return render(request, "sales/ask.html", context, status=status)


@require_POST
def move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to a stage: from the board (htmx, `filters` posted) or from the deal's card.

    A stage that needs fields the deal lacks gets them asked for; the form comes back here.
    """
    user = actor(request)
    deal = _get_deal(request, pk)
    on_board = request.POST.get("filters") is not None
    stage = Stage.objects.filter(
        pk=parse_id(request.POST.get("stage")) or 0, pipeline_id=deal.pipeline_id
    ).first()
    version = parse_id(request.POST.get("version")) or 0
    if stage is None or not permissions.can(user, Action.EDIT, deal):
        if stage is None:
            text = _("Choose a stage of the deal's pipeline.")
        else:
            text = _("You may not change this deal: it is %(owner)s's.") % {
                "owner": deal.owner or _("nobody")
            }
        if on_board:
            code = 422 if stage is None else 403
            return _board_answer(request, user, deal, set(), text, "danger", "kanban:refused", code)
        messages.error(request, text)
        return redirect("sales:card", pk=deal.pk)
    asked = request.POST.getlist("asked")
    people = _people(user, deal) if "contacts" in asked else []
    form = AskForm(request.POST if asked else None, asked=asked, people=people)
    if asked and not form.is_valid():
        return _ask(request, deal, stage, form, 422)
    from_stage = deal.stage_id
    contacts = None
    if asked and "contacts" in form.cleaned_data:
        contacts = [p for p in people if p.pk in form.cleaned_data["contacts"]]
    try:
        fields = form.service_fields() if asked else {}
        services.move_deal(user, deal, stage, version, fields, contacts=contacts)
    except StaleVersion:
        text = _("Someone else moved this deal; the board is refreshed.")
        if on_board:
            return _board_answer(request, user, deal, None, text, "warning", "kanban:stale", 409)
        messages.warning(request, _("Someone else changed this deal; here it is as it is now."))
        return redirect("sales:card", pk=deal.pk)
    except ValidationError as exc:
        missing = _asked(exc)
        if not missing:
            text = " ".join(exc.messages)
            if on_board:
                return _board_answer(request, user, deal, set(), text, "danger", "kanban:refused")
            messages.error(request, text)
            return redirect("sales:card", pk=deal.pk)
        people = _people(user, deal) if "contacts" in missing else []
        retry = AskForm(request.POST if asked else None, asked=missing, people=people)
        if asked:
            retry.is_valid()
            add_service_errors(retry, exc)
        return _ask(request, deal, stage, retry, 422 if asked else 200)
    text = _("“%(deal)s” is now in “%(stage)s”.") % {"deal": deal.title, "stage": stage.name}
    if on_board:
        only = {from_stage, stage.pk}
        return _board_answer(request, user, deal, only, text, "success", "kanban:moved")
    messages.success(request, text)
    return redirect("sales:card", pk=deal.pk)


# --- the list ---------------------------------------------------------------------------------


@require_GET
def deal_list(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    every = list(queries.pipelines())
    form = DealFilter(request.GET)
    chosen = parse_id(request.GET.get("pipeline"))
    pipeline = next((p for p in every if p.pk == chosen), None)
    deals = _filtered(user, form, board=False).select_related("stage", "client", "owner")
    if pipeline is not None:
        deals = deals.filter(pipeline=pipeline)
    try:
        page = keyset_page(deals, "updated_at", True, request.GET.get("cursor"), PAGE)
    except BadCursor:
        form.add_error(None, _("This page link is out of date; start again from the first page."))
        page = keyset_page(deals, "updated_at", True, None, PAGE)
    next_query = request.GET.copy()
    next_query["cursor"] = page.next_cursor or ""
    context = {
        "form": form,
        "page": page,
        "next_query": next_query.urlencode(),
        "pipelines": every,
        "pipeline": pipeline,
        "owners": _owners(),
        "can_create": permissions.can(user, Action.CREATE, Deal),
    }
    partial = "sales/_list_rows.html" if request.GET.get("cursor") else None
    return render_page(request, "sales/list.html", context, partial)


# --- the deal card ----------------------------------------------------------------------------


def _spent(seconds: int | None) -> str:
    if seconds is None:
        return ""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": rest // 60}
    return _("%(m)d min") % {"m": rest // 60}


def _get_deal(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> Deal:
    return permissions.get_or_404(
        actor(request), action, Deal.objects.select_related(*CARD_RELATED), pk=pk
    )


@require_GET
def card(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    try:
        deal = _get_deal(request, pk)
    except Http404:
        # A deal in the trash, for those who may restore it.
        trashed = Deal.all_objects.filter(deleted_at__isnull=False).select_related(*CARD_RELATED)
        deal = permissions.get_or_404(user, Action.RESTORE, trashed, pk=pk)
    history = list(queries.history(deal))
    for row in history:
        row.spent = _spent(row.seconds_in_stage)  # type: ignore[attr-defined]
    now_in_stage = int((timezone.now() - deal.stage_entered_at).total_seconds())
    context = {
        "deal": deal,
        "client_visible": permissions.can(user, Action.VIEW, deal.client),
        "contacts": list(client_queries.visible_clients(user).filter(deals_as_contact=deal)),
        "history": history,
        "in_stage": _spent(now_in_stage),
        "stages": list(deal.pipeline.stages.all()),
        "can_edit": not deal.in_trash and permissions.can(user, Action.EDIT, deal),
        "can_delete": not deal.in_trash and permissions.can(user, Action.DELETE, deal),
        "can_restore": deal.in_trash and permissions.can(user, Action.RESTORE, deal),
    }
    return render(request, "sales/card.html", context)


def _chosen_client(user: User, client_id: int | None) -> Client | None:
    if client_id is None:
        return None
    return client_queries.visible_clients(user).filter(pk=client_id).first()


@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    permissions.require(user, Action.CREATE, Deal)
    pipelines = Pipeline.objects.filter(is_active=True)
    data = request.POST if request.method == "POST" else None
    initial = {
        "owner": user.pk,
        "client": parse_id(request.GET.get("client")),
        "pipeline": pipelines.first(),
    }
    form = DealForm(data, initial=initial, pipelines=pipelines)
    if data is not None and form.is_valid():
        client = _chosen_client(user, form.cleaned_data["client"])
        try:
            deal = services.create_deal(user, form.service_fields(client))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Deal created."))
            return redirect("sales:card", pk=deal.pk)
    client = _chosen_client(user, parse_id(form["client"].value()))
    context = {"form": form, "client": client, "deal": None}
    return render(request, "sales/edit.html", context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    deal = _get_deal(request, pk, Action.EDIT)
    data = request.POST if request.method == "POST" else None
    form = DealForm(data, initial=DealForm.initial_for(deal))
    stale = False
    if data is not None and form.is_valid():
        chosen = form.cleaned_data["client"]
        # Unchanged, the service does not recheck it: a manager may keep working on a deal whose
        # client they cannot open.
        client = deal.client if chosen == deal.client_id else _chosen_client(user, chosen)
        fields = form.service_fields(client)
        try:
            services.update_deal(user, deal, form.cleaned_data["version"] or 0, fields)
        except StaleVersion:
            stale = True
            form.add_error(
                None,
                _(
                    "Someone else changed this deal while you were editing it. Your changes are "
                    "below and were not saved: open the deal in a new tab, compare, and save "
                    "again."
                ),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:card", pk=deal.pk)
    shown = parse_id(form["client"].value())
    client = deal.client if shown == deal.client_id else _chosen_client(user, shown)
    context = {"form": form, "client": client, "deal": deal}
    status = 409 if stale else 422 if form.errors else 200
    return render(request, "sales/edit.html", context, status=status)


@require_GET
def client_search(request: HttpRequest) -> HttpResponse:
    """Clients to choose for a deal: a search among those the user may see, at most 20."""
    user = actor(request)
    query = request.GET.get("client_q", "")[:200]
    found: Any = []
    if len(query.strip()) >= 2:
        visible = client_queries.visible_clients(user)
        found = client_queries.search_visible(visible, query, hidden_fields(user))[:20]
    return render(request, "sales/_client_choices.html", {"found": found, "query": query})


@require_POST
def trash(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _get_deal(request, pk, Action.DELETE)
    services.trash_deal(actor(request), deal)
    messages.success(request, _("“%(deal)s” is in the trash.") % {"deal": deal.title})
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(reverse("sales:card", args=[deal.pk]))
    return redirect("sales:card", pk=deal.pk)


@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    trashed = Deal.all_objects.filter(deleted_at__isnull=False)
    user = actor(request)
    deal = permissions.get_or_404(user, Action.RESTORE, trashed, pk=pk)
    services.restore_deal(user, deal)
    messages.success(request, _("“%(deal)s” is restored.") % {"deal": deal.title})
    return redirect("sales:card", pk=deal.pk)


# --- pipelines (administrators) ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def pipeline_list(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    permissions.require(user, Action.CONFIGURE)
    form = BlueprintForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = services.install_blueprint(
                user, form.cleaned_data["blueprint"], form.cleaned_data["name"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Pipeline “%(name)s” created.") % {"name": pipeline.name})
            return redirect("sales:pipelines")
    every = list(Pipeline.objects.prefetch_related("stages"))
    labels = {
        name: str(getattr(Deal._meta.get_field(name), "verbose_name", name))
        for name in services.REQUIRABLE
    }
    for pipeline in every:
        for stage in pipeline.stages.all():
            names = [labels.get(name, name) for name in stage.required_fields]
            stage.required_labels = ", ".join(names)  # type: ignore[attr-defined]
    context = {"form": form, "pipelines": every}
    return render(request, "sales/pipelines.html", context, status=422 if form.errors else 200)
