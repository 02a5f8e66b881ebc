"""/api/v1/ivr: voice menus and their nodes for programs; supervisors and administrators only.
Every change names the menu's version (If-Match or `version`): 428 without, 412 when stale.
`POST /menus/{id}/walk` plays a list of inputs through the engine, as "try it" does."""

from __future__ import annotations

from typing import Any, Literal

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kartoteka.callcenter import access
from kartoteka.callcenter.models import Queue
from kartoteka.clients.schemas import (
    ERRORS,
    IF_MATCH,
    WRITE_ERRORS,
    Strict,
    expected_version,
    field_error,
)
from kartoteka.core.errors import api_call, body_loc
from kartoteka.core.views import actor
from kartoteka.ivr import crm, engine, runtime, services
from kartoteka.ivr.models import Menu, Node

router = Router(tags=["ivr"])
RENAMED = {"parent": "parent_id", "queue": "queue_id", "fallback_queue": "fallback_queue_id"}
ID = Field(None, ge=1, le=2**62)


_loc = body_loc(RENAMED)


class NodeOut(Schema):
    id: int
    parent_id: int | None
    position: int
    digit: str
    kind: str
    title: str
    prompt: str
    sound: str
    key: str
    validation: str
    answer: str
    queue_id: int | None
    min_digits: int
    max_digits: int
    retries: int
    timeout_s: int


class MenuOut(Schema):
    id: int
    name: str
    number: str
    is_active: bool
    fallback_queue_id: int | None
    version: int


class MenuTreeOut(MenuOut):
    nodes: list[NodeOut]


class MenuIn(Strict):
    name: str | None = Field(None, max_length=100)
    number: str | None = Field(None, max_length=40)
    is_active: bool | None = None
    fallback_queue_id: int | None = ID
    version: int | None = Field(None, ge=1, le=2**31)


class NodeIn(Strict):
    parent_id: int | None = ID
    digit: str | None = Field(None, max_length=1)
    kind: Literal["menu", "input", "answer", "route", "back", "hangup"] | None = None
    title: str | None = Field(None, max_length=80)
    prompt: str | None = Field(None, max_length=1000)
    sound: str | None = Field(None, max_length=200)
    key: str | None = Field(None, max_length=30)
    validation: str | None = Field(None, max_length=8)
    answer: str | None = Field(None, max_length=20)
    queue_id: int | None = ID
    min_digits: int | None = Field(None, ge=1, le=engine.MAX_DIGITS)
    max_digits: int | None = Field(None, ge=1, le=engine.MAX_DIGITS)
    retries: int | None = Field(None, ge=1, le=9)
    timeout_s: int | None = Field(None, ge=1, le=60)
    version: int | None = Field(None, ge=1, le=2**31)


class MoveIn(Strict):
    offset: Literal[-1, 1]
    version: int | None = Field(None, ge=1, le=2**31)


class WalkIn(Strict):
    caller: str = Field("", max_length=40)
    inputs: list[str | None] = Field(default_factory=list, max_length=50)


class WalkOut(Schema):
    steps: list[dict[str, Any]]
    values: dict[str, str]
    path: str


def _menu(request: HttpRequest, pk: int) -> Menu:
    access.require_runs_centre(actor(request))
    menu = Menu.objects.filter(pk=pk).first()
    if menu is None:
        raise Http404
    return menu


def _node(menu: Menu, node_id: int) -> Node:
    node = Node.objects.filter(menu=menu, pk=node_id).select_related("menu").first()
    if node is None:
        raise Http404
    return node


def _queue(loc: str, pk: int | None) -> Queue | None:
    if pk is None:
        return None
    queue = Queue.objects.filter(pk=pk).first()
    if queue is None:
        raise field_error(["body", loc], _("There is no such queue."))
    return queue


def _tree(menu: Menu) -> dict[str, Any]:
    nodes = Node.objects.filter(menu=menu).order_by("position", "id")
    return {**{name: getattr(menu, name) for name in MenuOut.model_fields}, "nodes": list(nodes)}


def _etag(response: HttpResponse, menu: Menu) -> None:
    response["ETag"] = f'"{menu.version}"'


@router.get("/menus", response=list[MenuOut], summary="List voice menus")
def list_menus(request: HttpRequest) -> Any:
    access.require_runs_centre(actor(request))
    return list(Menu.objects.order_by("name")[:500])


@router.post("/menus", response={201: MenuTreeOut, **ERRORS}, summary="Create a voice menu")
def create_menu(request: HttpRequest, payload: MenuIn) -> tuple[int, dict[str, Any]]:
    access.require_runs_centre(actor(request))
    fields = _menu_fields(payload)
    if not fields.get("name"):
        raise field_error(["body", "name"], _("This field is required."))
    menu = api_call(lambda: services.save_menu(actor(request), None, fields), _loc)
    return 201, _tree(menu)


def _menu_fields(payload: MenuIn) -> dict[str, Any]:
    sent = payload.model_fields_set - {"version"}
    fields: dict[str, Any] = {}
    for name in sent - {"fallback_queue_id"}:
        value = getattr(payload, name)
        if value is None and name != "number":
            raise field_error(["body", name], _("This field cannot be empty."))
        fields[name] = value or ("" if name == "number" else value)
    if "fallback_queue_id" in sent:
        fields["fallback_queue"] = _queue("fallback_queue_id", payload.fallback_queue_id)
    return fields


@router.get(
    "/menus/{menu_id}", response={200: MenuTreeOut, **ERRORS}, summary="A menu and its tree"
)
def read_menu(request: HttpRequest, menu_id: int, response: HttpResponse) -> dict[str, Any]:
    menu = _menu(request, menu_id)
    _etag(response, menu)
    return _tree(menu)


@router.patch(
    "/menus/{menu_id}", response={200: MenuTreeOut, **WRITE_ERRORS}, summary="Change a menu"
)
def patch_menu(
    request: HttpRequest,
    menu_id: int,
    payload: MenuIn,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    menu = _menu(request, menu_id)
    version = expected_version(if_match, payload.version)
    fields = _menu_fields(payload)
    menu = api_call(lambda: services.save_menu(actor(request), menu, fields, version), _loc)
    _etag(response, menu)
    return _tree(menu)


@router.delete("/menus/{menu_id}", response={204: None, **WRITE_ERRORS}, summary="Delete a menu")
def delete_menu(
    request: HttpRequest, menu_id: int, version: int | None = None, if_match: str | None = IF_MATCH
) -> tuple[int, None]:
    menu = _menu(request, menu_id)
    services.delete_menu(actor(request), menu, expected_version(if_match, version))
    return 204, None


def _node_fields(menu: Menu, payload: NodeIn) -> dict[str, Any]:
    sent = payload.model_fields_set - {"version"}
    fields: dict[str, Any] = {}
    for name in sent - {"parent_id", "queue_id"}:
        value = getattr(payload, name)
        if value is None:
            raise field_error(["body", name], _("This field cannot be empty."))
        fields[name] = value
    if "parent_id" in sent:
        parent = Node.objects.filter(menu=menu, pk=payload.parent_id or 0).first()
        if parent is None:
            raise field_error(["body", "parent_id"], _("There is no such node in this menu."))
        fields["parent"] = parent
    if "queue_id" in sent:
        fields["queue"] = _queue("queue_id", payload.queue_id)
    return fields


@router.post(
    "/menus/{menu_id}/nodes", response={201: NodeOut, **WRITE_ERRORS}, summary="Add a node"
)
def add_node(
    request: HttpRequest,
    menu_id: int,
    payload: NodeIn,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> tuple[int, Node]:
    menu = _menu(request, menu_id)
    version = expected_version(if_match, payload.version)
    if "parent_id" not in payload.model_fields_set:
        raise field_error(["body", "parent_id"], _("This field is required."))
    fields = _node_fields(menu, payload)
    node = api_call(lambda: services.save_node(actor(request), menu, None, fields, version), _loc)
    _etag(response, menu)
    return 201, node


@router.patch(
    "/menus/{menu_id}/nodes/{node_id}",
    response={200: NodeOut, **WRITE_ERRORS},
    summary="Change a node",
)
def patch_node(
    request: HttpRequest,
    menu_id: int,
    node_id: int,
    payload: NodeIn,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> Node:
    menu = _menu(request, menu_id)
    node = _node(menu, node_id)
    version = expected_version(if_match, payload.version)
    fields = _node_fields(menu, payload)
    saved = api_call(lambda: services.save_node(actor(request), menu, node, fields, version), _loc)
    _etag(response, menu)
    return saved


@router.post(
    "/menus/{menu_id}/nodes/{node_id}/move",
    response={204: None, **WRITE_ERRORS},
    summary="Move a node up or down",
)
def move_node(
    request: HttpRequest,
    menu_id: int,
    node_id: int,
    payload: MoveIn,
    if_match: str | None = IF_MATCH,
) -> tuple[int, None]:
    node = _node(_menu(request, menu_id), node_id)
    services.move_node(
        actor(request), node, payload.offset, expected_version(if_match, payload.version)
    )
    return 204, None


@router.delete(
    "/menus/{menu_id}/nodes/{node_id}",
    response={204: None, 422: Any, **WRITE_ERRORS},
    summary="Delete a node",
    description="A node with nodes below it needs `with_children=true`.",
)
def delete_node(
    request: HttpRequest,
    menu_id: int,
    node_id: int,
    version: int | None = None,
    with_children: bool = False,
    if_match: str | None = IF_MATCH,
) -> tuple[int, None]:
    node = _node(_menu(request, menu_id), node_id)
    expected = expected_version(if_match, version)
    api_call(lambda: services.delete_node(actor(request), node, expected, with_children), _loc)
    return 204, None


@router.post(
    "/menus/{menu_id}/walk", response={200: WalkOut, **ERRORS}, summary="Walk a menu as a caller"
)
def walk(request: HttpRequest, menu_id: int, payload: WalkIn) -> dict[str, Any]:
    """Each input is digits, "" or null for a timeout; nothing is written to any call."""
    menu = _menu(request, menu_id)
    for index, item in enumerate(payload.inputs):
        if item is not None and (len(item) > 32 or any(c not in engine.KEYS for c in item)):
            raise field_error(["body", "inputs", index], _("Digits 0-9, * and # only, at most 32."))
    tree = runtime.load_tree(menu)
    reads, caller_client = crm.scoped(actor(request))
    step = engine.start(tree, reads, caller_client(payload.caller))
    steps = [runtime.action_json(step)]
    for item in payload.inputs:
        if step.state.done:
            break
        step = engine.feed(tree, reads, step.state, item or None)
        steps.append(runtime.action_json(step))
    return {
        "steps": steps,
        "values": engine.shown(step.state.values),
        "path": engine.readable_path(tree, step.state),
    }
