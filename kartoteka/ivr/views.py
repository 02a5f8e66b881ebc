"""The voice-menu editor for supervisors and administrators: menus, the node tree (add a child,
edit, move, delete), and "try it", which walks the menu through the same engine as a call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kartoteka.callcenter import access
from kartoteka.core.errors import StaleVersion
from kartoteka.core.forms import ID_RE, add_service_errors
from kartoteka.core.views import actor
from kartoteka.ivr import crm, engine, runtime, services
from kartoteka.ivr.forms import MenuForm, NodeForm, TryForm
from kartoteka.ivr.models import Menu, Node


@dataclass
class Row:
    node: Node
    depth: int
    children: int


def _menu(request: HttpRequest, pk: int) -> Menu:
    access.require_runs_centre(actor(request))
    menu = Menu.objects.select_related("fallback_queue").filter(pk=pk).first()
    if menu is None:
        raise Http404
    return menu


def _node(menu: Menu, raw: str | int | None) -> Node | None:
    text = str(raw or "")
    if not ID_RE.fullmatch(text):
        return None
    return Node.objects.filter(menu=menu, pk=int(text)).select_related("parent").first()


def _rows(menu: Menu) -> list[Row]:
    """The tree in reading order: each node followed by its children."""
    nodes = list(Node.objects.filter(menu=menu).select_related("queue").order_by("position", "id"))
    kids: dict[int | None, list[Node]] = {}
    for node in nodes:
        kids.setdefault(node.parent_id, []).append(node)
    rows: list[Row] = []
    stack = [(node, 0) for node in reversed(kids.get(None, []))]
    while stack:
        node, depth = stack.pop()
        rows.append(Row(node, depth, len(kids.get(node.pk, []))))
        stack.extend((child, depth + 1) for child in reversed(kids.get(node.pk, [])))
    return rows


def _page(request: HttpRequest, menu: Menu, status: int = 200, **context: Any) -> HttpResponse:
    mode = context.pop("mode", "")
    node = context.pop("node", None)
    if "node_form" not in context:
        if request.GET.get("edit"):
            node = _node(menu, request.GET.get("edit"))
            if node is not None:
                mode = "edit"
                initial = {name: getattr(node, name) for name in services.NODE_FIELDS}
                initial["version"] = menu.version
                context["node_form"] = NodeForm(initial=initial, menu=menu, prefix="node")
        elif request.GET.get("add"):
            parent = _node(menu, request.GET.get("add"))
            if parent is not None:
                mode = "add"
                initial = {"parent": parent.pk, "kind": Node.Kind.MENU, "version": menu.version}
                context["node_form"] = NodeForm(initial=initial, menu=menu, prefix="node")
        elif request.GET.get("delete"):
            node = _node(menu, request.GET.get("delete"))
            mode = "delete" if node is not None else ""
    menu_initial = {name: getattr(menu, name) for name in services.MENU_FIELDS}
    context.setdefault(
        "menu_form", MenuForm(initial={**menu_initial, "version": menu.version}, prefix="menu")
    )
    rows = _rows(menu)
    base = {
        "menu": menu,
        "rows": rows,
        "mode": mode,
        "node": node,
        "below": sum(1 for r in rows if node is not None and r.node.pk == node.pk and r.children),
        "try_form": TryForm(initial={"caller": request.session.get("ivr_try_caller", "")}),
        "transcript": request.session.get(_try_key(menu), {}).get("lines", []),
    }
    return render(request, "ivr/menu.html", {**base, **context}, status=status)


# --- menus -----------------------------------------------------------------------------------


@require_GET
def menu_list(request: HttpRequest) -> HttpResponse:
    access.require_runs_centre(actor(request))
    menus = Menu.objects.select_related("fallback_queue").order_by("name")
    return render(request, "ivr/menus.html", {"menus": menus, "form": MenuForm(prefix="menu")})


@require_POST
def menu_create(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    access.require_runs_centre(user)
    form = MenuForm(request.POST, prefix="menu")
    menu = _saved(form, services.MENU_FIELDS, lambda f, _v: services.save_menu(user, None, f))
    if menu is not None:
        messages.success(request, _("Menu created."))
        return redirect("ivr:menu", menu.pk)
    menus = Menu.objects.order_by("name")
    return render(request, "ivr/menus.html", {"menus": menus, "form": form}, status=422)


@require_GET
def menu_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _menu(request, pk))


@require_POST
def menu_save(request: HttpRequest, pk: int) -> HttpResponse:
    menu = _menu(request, pk)
    form = MenuForm(request.POST, prefix="menu", versioned=True)
    try:
        saved = _saved(
            form, services.MENU_FIELDS, lambda f, v: services.save_menu(actor(request), menu, f, v)
        )
    except StaleVersion:
        return _stale(request, menu)
    if saved is not None:
        messages.success(request, _("Saved."))
        return redirect("ivr:menu", menu.pk)
    return _page(request, menu, status=422, menu_form=form)


@require_POST
def menu_delete(request: HttpRequest, pk: int) -> HttpResponse:
    menu = _menu(request, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the confirmation to delete the menu."))
        return redirect("ivr:menu", menu.pk)
    services.delete_menu(actor(request), menu)
    messages.success(request, _("Menu deleted."))
    return redirect("ivr:list")


def _saved(form: Any, names: tuple[str, ...], write: Callable[[dict[str, Any], int], Any]) -> Any:
    """What the service saved from a valid form, or None with its errors on the form's fields
    (StaleVersion goes up to the view)."""
    if not form.is_valid():
        return None
    try:
        return write({k: form.cleaned_data[k] for k in names}, form.cleaned_data["version"])
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None


def _stale(request: HttpRequest, menu: Menu) -> HttpResponse:
    messages.error(
        request,
        _("Someone changed this menu meanwhile: the page shows their version; redo your change."),
    )
    return redirect("ivr:menu", menu.pk)


# --- nodes -----------------------------------------------------------------------------------


@require_POST
def node_save(request: HttpRequest, pk: int, node_id: int | None = None) -> HttpResponse:
    menu = _menu(request, pk)
    node = None
    if node_id is not None:
        node = _node(menu, node_id)
        if node is None:
            raise Http404
    form = NodeForm(request.POST, menu=menu, prefix="node")
    try:
        saved = _saved(
            form,
            services.NODE_FIELDS,
            lambda f, v: services.save_node(actor(request), menu, node, f, v),
        )
    except StaleVersion:
        return _stale(request, menu)
    if saved is not None:
        messages.success(request, _("Saved."))
        return redirect(reverse("ivr:menu", args=[menu.pk]) + f"#node-{saved.pk}")
    mode = "edit" if node is not None else "add"
    return _page(request, menu, status=422, node_form=form, mode=mode, node=node)


@require_POST
def node_move(request: HttpRequest, pk: int, node_id: int) -> HttpResponse:
    menu = _menu(request, pk)
    node = _node(menu, node_id)
    if node is None:
        raise Http404
    offset = -1 if request.POST.get("direction") == "up" else 1
    try:
        services.move_node(actor(request), node, offset, _version(request))
    except StaleVersion:
        return _stale(request, menu)
    return redirect(reverse("ivr:menu", args=[menu.pk]) + f"#node-{node.pk}")


@require_POST
def node_delete(request: HttpRequest, pk: int, node_id: int) -> HttpResponse:
    menu = _menu(request, pk)
    node = _node(menu, node_id)
    if node is None:
        raise Http404
    try:
        gone = services.delete_node(
            actor(request), node, _version(request), request.POST.get("with_children") == "yes"
        )
    except StaleVersion:
        return _stale(request, menu)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(reverse("ivr:menu", args=[menu.pk]) + f"?delete={node.pk}")
    messages.success(request, _("Deleted %(n)d nodes.") % {"n": gone})
    return redirect("ivr:menu", menu.pk)


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if ID_RE.fullmatch(raw) else -1  # a missing version is a stale one


# --- try it ----------------------------------------------------------------------------------


def _try_key(menu: Menu) -> str:
    return f"ivr_try_{menu.pk}"


def _lines(step: engine.Step) -> list[str]:
    lines = []
    for action in step.actions:
        if isinstance(action, engine.Say):
            lines.append(
                "🔊 "
                + " ".join(
                    p
                    for p in (
                        action.text,
                        action.sound and f"[{action.sound}]",
                        action.digits and f"({action.digits})",
                    )
                    if p
                )
            )
        elif isinstance(action, engine.Collect):
            lines.append(
                _("⌨ waiting for %(low)d–%(high)d digits, %(s)d s")
                % {"low": action.min_digits, "high": action.max_digits, "s": action.timeout_s}
            )
        elif isinstance(action, engine.Route):
            lines.append(_("→ routed to queue %(queue)s") % {"queue": action.queue})
        else:
            lines.append(_("✆ hung up"))
    return lines


@require_POST
def try_it(request: HttpRequest, pk: int) -> HttpResponse:
    """Walk the menu as a caller would: "start" (with a caller number), digits, or a timeout."""
    menu = _menu(request, pk)
    form = TryForm(request.POST)
    key = _try_key(menu)
    saved = request.session.get(key, {})
    lines: list[str] = list(saved.get("lines", []))[-200:]
    error = ""
    if not form.is_valid():
        error = " ".join(
            f"{form.fields[k].label}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items()
        )
    else:
        tree = runtime.load_tree(menu)
        reads, caller_client = crm.scoped(actor(request))
        press = request.POST.get("press", "")
        try:
            if press == "start" or "state" not in saved:
                caller = form.cleaned_data["caller"]
                request.session["ivr_try_caller"] = caller
                step = engine.start(tree, reads, caller_client(caller))
                lines = [_("Call from %(caller)s") % {"caller": caller or "—"}]
            else:
                typed = form.cleaned_data["key"] or form.cleaned_data["digits"]
                digits = None if press == "timeout" else typed or None
                lines.append(f"» {digits}" if digits else _("» (no key: timeout)"))
                step = engine.feed(tree, reads, engine.State.from_json(saved["state"]), digits)
        except engine.Ended:
            error = _("The call has ended: start again.")
        else:
            lines += _lines(step)
            values = runtime.answers(menu, tree, step.state)
            request.session[key] = {"state": step.state.to_json(), "lines": lines, "values": values}
    context = {
        "menu": menu,
        "transcript": lines,
        "try_error": error,
        "values": request.session.get(key, {}).get("values", {}),
        "try_form": form,
    }
    return render(request, "ivr/_try.html", context, status=422 if error else 200)
