"""Contact-centre pages: the operator's console with the live screen pop, the call card, the
calls list, the supervisor's board and the callbacks report. Thin: queries read, services
write, the permissions engine decides."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.callcenter import access, live, queries, services
from kartoteka.callcenter import board as board_stream
from kartoteka.callcenter.forms import CallCardForm, CallFilter, DialForm, PeriodForm, StatusForm
from kartoteka.callcenter.models import Call, Operator
from kartoteka.clients.queries import visible_clients
from kartoteka.clients.validators import format_phone
from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.forms import add_service_errors, parse_id
from kartoteka.core.middleware import CSP
from kartoteka.core.pagination import BadCursor, keyset_page
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor, render_page

PAGE = settings.LIST_PAGE_SIZE


def _operator(request: HttpRequest) -> Operator | None:
    return (
        Operator.objects.select_related("break_reason", "call").filter(user=actor(request)).first()
    )


def _flash_errors(request: HttpRequest, form: Form) -> None:
    """A form posted from the console has no page of its own: its errors become messages."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


# --- the operator's console -------------------------------------------------------------------


@require_GET
def console(request: HttpRequest) -> HttpResponse:
    """Status switcher, the call ringing now (screen pop, live) and the operator's last calls."""
    user = actor(request)
    operator = _operator(request)
    recent = list(
        queries.for_list(queries.visible_calls(user).filter(user=user)).order_by(
            "-started_at", "-id"
        )[:10]
    )
    current = operator.call if operator and operator.call and operator.call.is_live else None
    context = {
        "operator": operator,
        "status_form": StatusForm(
            initial={"status": operator.status if operator else "", "break_reason": None}
        ),
        "current": current,
        "recent": recent,
        "dial_form": DialForm(),
        **(_card_context(request, current) if current else {}),
    }
    return render(request, "callcenter/console.html", context)


@require_POST
def set_status(request: HttpRequest) -> HttpResponse:
    operator = _operator(request)
    if operator is None:
        messages.error(request, _("You have no extension: ask an administrator."))
        return redirect("callcenter:console")
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.set_status(
                actor(request),
                operator,
                form.cleaned_data["status"],
                break_reason=form.cleaned_data["break_reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    _flash_errors(request, form)
    operator.refresh_from_db()
    if getattr(request, "htmx", False):
        return render(request, "callcenter/_status.html", {"operator": operator})
    return redirect("callcenter:console")


@require_GET
def pop(request: HttpRequest, pk: int) -> HttpResponse:
    """The screen pop's fragment: who calls, the matching clients, or "create a client"."""
    call = queries.card(actor(request), pk)
    return render(request, "callcenter/_pop.html", _card_context(request, call))


def _card_context(request: HttpRequest, call: Call) -> dict[str, object]:
    user = actor(request)
    matches = services.clients_for_pop(call, user) if call.client_id is None else []
    number = call.number_e164 or call.number
    return {
        "call": call,
        "shown_number": format_phone(call.number_e164) if call.number_e164 else call.number,
        "number": number,
        "matches": matches,
        "client_visible": call.client_id is not None
        and visible_clients(user).filter(pk=call.client_id).exists(),
        "can_edit": permissions.can(user, Action.EDIT, call),
        "can_create_client": permissions.can(user, Action.CREATE, kind="client"),
    }


# --- the call card ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def card(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    call = queries.card(user, pk)
    data = request.POST if request.method == "POST" else None
    form = CallCardForm(
        data,
        call=call,
        initial={"disposition": call.disposition, "summary": call.summary, "version": call.version},
    )
    status = 200
    if data is not None:
        if not permissions.can(user, Action.EDIT, call):
            raise permissions.Denied(Action.EDIT)
        if form.is_valid():
            fields = {
                "disposition": form.cleaned_data["disposition"],
                "summary": form.cleaned_data["summary"],
            }
            try:
                services.save_call_card(user, call, form.cleaned_data["version"], fields)
            except StaleVersion:
                form.add_error(None, _("Someone else saved this call; reload it and try again."))
                status = 409
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("callcenter:card", pk=call.pk)
        status = status if status != 200 else 422
    context = {**_card_context(request, call), "form": form}
    response = render(request, "callcenter/card.html", context, status=status)
    origin = _origin(call.recording_url)
    if origin:
        # The recording plays from the PBX's server: this page alone may load media from it.
        response["Content-Security-Policy"] = f"{CSP}; media-src 'self' {origin}"
    return response


# A host name or an IP address, nothing else: the origin goes into the CSP header, where ";"
# would start a directive of the sender's choosing and a space would add a source.
HOST_RE = re.compile(r"[A-Za-z0-9.-]{1,253}|[0-9A-Fa-f:.]{2,45}")


def _origin(url: str) -> str:
    """scheme://host[:port] of a playable recording URL; "" when it is not one (a bad port or
    a host with other characters is not a 500 either)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not HOST_RE.fullmatch(host):
        return ""
    host = host if ":" not in host else f"[{host}]"
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}"


@require_POST
def link_client(request: HttpRequest, pk: int) -> HttpResponse:
    """One of several clients with the caller's number is the one on the line."""
    user = actor(request)
    call = queries.card(user, pk, Action.EDIT)
    client_id = parse_id(request.POST.get("client"))
    client = visible_clients(user).filter(pk=client_id).first() if client_id else None
    if client is None:
        messages.error(request, _("There is no such client."))
    else:
        try:
            services.link_client(user, call, client)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("callcenter:card", pk=call.pk)


# --- click-to-call ----------------------------------------------------------------------------


@require_POST
def dial(request: HttpRequest) -> HttpResponse:
    form = DialForm(request.POST)
    if form.is_valid():
        try:
            number = services.click_to_call(actor(request), form.cleaned_data["number"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Calling %(number)s: pick up your phone.") % {"number": number}
            )
    _flash_errors(request, form)
    back = request.POST.get("next", "")
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, {request.get_host()}, request.is_secure()
    ):
        back = ""  # a bare word would be taken for a URL name by redirect(): NoReverseMatch
    return redirect(back or "callcenter:console")


# --- lists and reports ------------------------------------------------------------------------


@require_GET
def call_list(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    form = CallFilter(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    rows = queries.filter_calls(
        queries.visible_calls(user),
        status=data.get("status") or "",
        direction=data.get("direction") or "",
        user_id=user.pk if data.get("mine") else None,
    )
    try:
        page = keyset_page(
            queries.for_list(rows), "started_at", True, request.GET.get("cursor") or None, PAGE
        )
    except BadCursor:
        return HttpResponse(_("This link is out of date; reload the list."), status=400)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {"form": form, "calls": page.rows, "next_cursor": page.next_cursor, "query": query}
    return render_page(request, "callcenter/list.html", context, "callcenter/_rows.html")


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    access.require_supervisor(actor(request))
    context = {"board": queries.board(actor(request))}
    return render_page(request, "callcenter/board.html", context, "callcenter/_board.html")


@require_GET
async def board_live(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The board as Server-Sent Events: re-rendered when it changes, at most once a second."""
    return await live.respond(request, board_stream.pacer)


@require_GET
def callbacks_report(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET if "start" in request.GET else PeriodForm.default())
    report = None
    if form.is_valid():
        report = queries.callbacks(
            actor(request), form.cleaned_data["start"], form.cleaned_data["end"]
        )
    status = 200 if report is not None else 422
    return render(
        request, "callcenter/callbacks.html", {"form": form, "report": report}, status=status
    )
