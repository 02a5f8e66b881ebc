"""Segment pages: the list with counts, the rule builder (htmx: rows, live preview), a segment's
page with its clients, static-list membership, delete. Thin: `services` writes, `queries` reads
through the permissions engine; exports go through the export pipeline (transfer)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.accounts.models import User
from kartoteka.clients.queries import visible_clients
from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion, field_errors
from kartoteka.core.forms import clean_text, parse_id
from kartoteka.core.pagination import BadCursor, keyset_page
from kartoteka.core.permissions import Action, Denied
from kartoteka.core.views import actor
from kartoteka.segments import builder, labels, queries, services
from kartoteka.segments.builder import Row
from kartoteka.segments.models import Segment
from kartoteka.segments.rules import catalogue, compile_rules

PREVIEW_CLIENTS = 10
PAGE = 50


def _segment(request: HttpRequest, pk: int) -> Segment:
    return queries.segment_or_404(actor(request), pk)


def _changeable(request: HttpRequest, pk: int) -> Segment:
    return queries.changeable_segment(actor(request), pk)


def _require_clients(request: HttpRequest) -> User:
    user = actor(request)
    if permissions.scope_of(user, "client", Action.VIEW) is permissions.Scope.NONE:
        raise Denied(Action.VIEW)
    return user


@require_GET
def segment_list(request: HttpRequest) -> HttpResponse:
    user = _require_clients(request)
    segments = list(queries.visible_segments(user).select_related("created_by")[:500])
    for segment in segments:
        segment.changeable = queries.may_change(user, segment)  # type: ignore[attr-defined]
    return render(request, "segments/list.html", {"segments": segments})


@require_GET
def segment_count(request: HttpRequest, pk: int) -> HttpResponse:
    """The count of one segment among the viewer's clients (loaded after the page)."""
    segment = _segment(request, pk)
    try:
        count: int | None = queries.count(segment, actor(request))
    except ValidationError:
        count = None
    return render(request, "segments/_count.html", {"count": count, "segment": segment})


# --- the rule builder ----------------------------------------------------------------------------


def _fields(user: User) -> dict[str, dict[str, Any]]:
    """The fields this viewer may use, with translated labels and choices."""
    found = {}
    for item in catalogue(user):
        name = item["field"]
        names = labels.CHOICE_LABELS.get(name, {})
        found[name] = {
            **item,
            "label": labels.FIELD_LABELS.get(name, item["label"]),
            "ops": [(op, labels.OP_LABELS.get(op, op)) for op in item["ops"]],
            "choices": [(c, names.get(c, c or "—")) for c in item["choices"]],
        }
    return found


def _builder_context(
    user: User, match: str, rows: list[Row], general: list[str] | None = None
) -> dict[str, Any]:
    fields = _fields(user)
    for row in rows:
        row.spec = fields.get(row.field)  # type: ignore[attr-defined]
    return {
        "match": match,
        "rows": rows,
        "fields": fields,
        "general_errors": general or [],
        "owners": User.objects.filter(is_active=True).order_by("first_name", "username"),
        "interaction_kinds": labels.INTERACTION_KINDS,
        "deal_statuses": labels.deal_statuses(),
        "max_rows": builder.MAX_CONDITIONS,
    }


def _types(user: User) -> dict[str, str]:
    return {item["field"]: item["type"] for item in catalogue(user)}


def _check(user: User, rules: dict[str, Any], rows: list[Row]) -> list[str]:
    """Compile for this viewer; the errors go on their rows, the rest is answered."""
    try:
        compile_rules(rules, user)
    except ValidationError as exc:
        return builder.attach_errors(rows, field_errors(exc))
    return []


@require_POST
def builder_rows(request: HttpRequest) -> HttpResponse:
    """Add, remove or retype a row: the conditions again, and the preview out of band."""
    user = _require_clients(request)
    rows = builder.rows_from_post(request.POST)
    match = builder.to_rules(request.POST.get("match", "all"), [], {})["match"]
    if "add" in request.POST and len(rows) < builder.MAX_CONDITIONS:
        rows.append(builder.default_row())
    remove = parse_id(request.POST.get("remove"))
    if remove is not None and remove < len(rows):
        rows.pop(remove)
    changed = parse_id(request.POST.get("retype"))
    if changed is not None and changed < len(rows):
        rows[changed] = builder.fresh_row(rows[changed])
    context = _builder_context(user, match, rows)
    context.update(_preview(user, match, rows))
    return render(request, "segments/_builder_rows.html", context)


def _preview(user: User, match: str, rows: list[Row]) -> dict[str, Any]:
    if not rows:
        return {"preview_error": builder.empty_message()}
    rules = builder.to_rules(match, rows, _types(user))
    try:
        condition = compile_rules(rules, user)
    except ValidationError as exc:
        probe = [Row(r.field, r.op, r.value, dict(r.extras)) for r in rows]
        general = builder.attach_errors(probe, field_errors(exc))
        texts = general + [f"{i + 1}: {e}" for i, r in enumerate(probe) for e in r.errors.values()]
        return {"preview_error": " ".join(texts)}
    clients = visible_clients(user).filter(condition)
    return {
        "preview_count": clients.count(),
        "preview_clients": list(
            clients.order_by("name", "id").only("id", "name")[:PREVIEW_CLIENTS]
        ),
    }


@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """How many of the viewer's clients the rules select, and the first of them; not saved."""
    user = _require_clients(request)
    rows = builder.rows_from_post(request.POST)
    match = request.POST.get("match", "all")
    return render(request, "segments/_preview.html", _preview(user, match, rows))


def _save(request: HttpRequest, segment: Segment | None) -> tuple[Segment | None, dict[str, Any]]:
    """Create or update from the posted form; the errors by field when refused."""
    user = actor(request)
    post = request.POST
    kind = segment.kind if segment else str(post.get("kind", Segment.Kind.DYNAMIC))[:10]
    rows = builder.rows_from_post(post) if kind == Segment.Kind.DYNAMIC else []
    match = builder.to_rules(post.get("match", "all"), [], {})["match"]
    rules = builder.to_rules(match, rows, _types(user)) if kind == Segment.Kind.DYNAMIC else {}
    name = clean_text(str(post.get("name", "")), 200)
    shared = post.get("shared") == "on"
    errors: dict[str, list[str]] = {}
    saved = None
    try:
        if segment is None:
            saved = services.create(user, name=name, kind=kind, rules=rules or None, shared=shared)
        else:
            version = parse_id(post.get("version"))
            if version is None:
                raise ValidationError({"version": [_("The form is out of date; reload it.")]})
            # Rules with groups are not in the form: a rename keeps them as they are.
            keep = kind != Segment.Kind.DYNAMIC or (
                not rows and builder.from_rules(segment.rules) is None
            )
            saved = services.update(
                user, segment, version, name=name, rules=None if keep else rules, shared=shared
            )
    except StaleVersion:
        errors = {"version": [_("Someone saved this segment meanwhile; reload it.")]}
    except ValidationError as exc:
        errors = field_errors(exc)
    general = builder.attach_errors(rows, {k: v for k, v in errors.items() if "rules" in k})
    context = _builder_context(user, match, rows, general)
    context.update(
        {
            "kind": kind,
            "name": name,
            "shared": shared,
            "errors": {k: v for k, v in errors.items() if "rules" not in k},
        }
    )
    return saved, context


@require_http_methods(["GET", "POST"])
def segment_new(request: HttpRequest) -> HttpResponse:
    user = _require_clients(request)
    if request.method == "POST":
        saved, context = _save(request, None)
        if saved is not None:
            messages.success(request, _("The segment is saved."))
            return redirect("segments:detail", saved.pk)
        context["segment"] = None
        return render(request, "segments/edit.html", context, status=422)
    kind = Segment.Kind.STATIC if request.GET.get("kind") == "static" else Segment.Kind.DYNAMIC
    rows = [builder.default_row()] if kind == Segment.Kind.DYNAMIC else []
    context = _builder_context(user, "all", rows)
    context.update({"kind": kind, "name": "", "shared": False, "errors": {}, "segment": None})
    context.update(_preview(user, "all", rows) if rows else {})
    return render(request, "segments/edit.html", context)


@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _changeable(request, pk)
    user = actor(request)
    if request.method == "POST":
        saved, context = _save(request, segment)
        if saved is not None:
            messages.success(request, _("The segment is saved."))
            return redirect("segments:detail", saved.pk)
        context["segment"] = segment
        return render(request, "segments/edit.html", context, status=422)
    dynamic = segment.kind == Segment.Kind.DYNAMIC
    flat = builder.from_rules(segment.rules) if dynamic else ("all", [])
    general = []
    if flat is None:
        flat = ("all", [])
        general = [_("These rules have groups: change them through the API.")]
    match, rows = flat
    context = _builder_context(user, match, rows, general)
    context.update(
        {
            "kind": segment.kind,
            "name": segment.name,
            "shared": segment.shared,
            "errors": {},
            "segment": segment,
            "grouped": bool(general),
        }
    )
    if rows:
        context.update(_preview(user, match, rows))
    return render(request, "segments/edit.html", context)


# --- a segment's page ----------------------------------------------------------------------------


@require_GET
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment(request, pk)
    user = actor(request)
    rows: list[Any] = []
    next_cursor = None
    error = ""
    try:
        clients = queries.clients_of(segment, user).only("id", "name", "kind")
        page = keyset_page(clients, "name", False, request.GET.get("cursor"), PAGE)
        rows, next_cursor = page.rows, page.next_cursor
    except BadCursor:
        error = _("This page link is out of date; start again from the first page.")
    except ValidationError:
        error = _("This segment uses a field you may not see.")
    context = {
        "segment": segment,
        "rows": rows,
        "next_cursor": next_cursor,
        "error": error,
        "changeable": queries.may_change(user, segment),
        "can_export": permissions.scope_of(user, "client", Action.EXPORT) > 0,
        "summary": _summary(user, segment),
    }
    return render(request, "segments/detail.html", context)


def _summary(user: User, segment: Segment) -> list[str]:
    """The rules in words: "stage is customer", one line per condition."""
    if segment.kind != Segment.Kind.DYNAMIC:
        return []
    flat = builder.from_rules(segment.rules)
    if flat is None:
        return [_("Rules with groups (see the API).")]
    fields = _fields(user)
    lines = []
    for row in flat[1]:
        spec = fields.get(row.field)
        label = spec["label"] if spec else row.field
        op = labels.OP_LABELS.get(row.op, row.op)
        names = dict(spec["choices"]) if spec else {}
        value = ", ".join(str(names.get(v, v)) for v in row.values if v != "")
        extras = " ".join(f"{k}={v}" for k, v in row.extras.items())
        lines.append(" ".join(str(p) for p in (label, op, value, extras) if p))
    return lines


@require_POST
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _changeable(request, pk)
    services.delete(actor(request), segment)
    messages.success(request, _("The segment is deleted."))
    return redirect("segments:list")


def _ids(values: list[str]) -> list[int] | None:
    found = [parse_id(v) for v in values[: services.MAX_MEMBERS_PER_CALL + 1]]
    return None if any(v is None for v in found) else [v for v in found if v is not None]


@require_POST
def members(request: HttpRequest, pk: int) -> HttpResponse:
    """Add clients to a static list (from the client list) or remove them (from its page)."""
    segment = _changeable(request, pk)
    add, remove = _ids(request.POST.getlist("add")), _ids(request.POST.getlist("remove"))
    back = request.POST.get("back") == "list"
    if add is None or remove is None:
        messages.error(request, _("Choose clients by their ids."))
    else:
        try:
            done = services.change_members(actor(request), segment, add, remove)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("Added: %(added)d, removed: %(removed)d.") % done,
            )
    if back:
        return redirect(reverse("clients:list") + f"?segment={segment.pk}")
    return redirect("segments:detail", segment.pk)


@require_GET
def add_to_list(request: HttpRequest) -> HttpResponse:
    """The client list's "add these clients to a list" control (loaded after the list)."""
    user = _require_clients(request)
    ids = _ids(str(request.GET.get("ids", ""))[:2000].split(",")) or []
    mine = [
        s
        for s in queries.visible_segments(user).filter(kind=Segment.Kind.STATIC)[:200]
        if queries.may_change(user, s)
    ]
    return render(request, "segments/_add_to_list.html", {"lists": mine, "ids": ids})
