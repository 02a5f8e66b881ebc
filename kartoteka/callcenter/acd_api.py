"""/api/v1/acd (skills, the matrix, a queue's routing) and POST /api/v1/calls/route.

Settings are for supervisors and administrators (403 for others). A matrix write names each
cell's version as read (0 for an empty cell): 412 naming the cell when someone changed it since.
The route call authenticates like the telephony webhook (HMAC over timestamp and body) or with
a supervisor's API token.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from pydantic import StrictInt

from kartoteka.callcenter import access, acd, acd_services
from kartoteka.callcenter.acd_models import MAX_LEVEL, MAX_WAIT_S, MIN_LEVEL, OperatorSkill, Skill
from kartoteka.callcenter.acd_services import CellIn, OverflowIn, QueueConfigIn, StaleCell
from kartoteka.callcenter.models import Operator, Queue
from kartoteka.callcenter.providers.webhook.provider import SIGNATURE_HEADER, Rejected
from kartoteka.callcenter.providers.webhook.views import MAX_BODY, configured
from kartoteka.clients.schemas import ERRORS, Message, Strict, field_error
from kartoteka.core.errors import api_call, body_loc
from kartoteka.core.views import actor

acd_router = Router(tags=["acd"])
route_router = Router(tags=["calls"])
ID = Field(ge=1, le=2**62)


_loc = body_loc()


def _manager(request: HttpRequest) -> None:
    access.require_routing(actor(request))


# --- skills -----------------------------------------------------------------------------------


class SkillOut(Schema):
    id: int
    name: str


class SkillIn(Strict):
    name: str = Field(max_length=60)


@acd_router.get("/skills", response={200: list[SkillOut], **ERRORS}, summary="List skills")
def list_skills(request: HttpRequest) -> list[Skill]:
    _manager(request)
    return list(Skill.objects.all()[:1000])


@acd_router.post("/skills", response={201: SkillOut, **ERRORS}, summary="Add a skill")
def add_skill(request: HttpRequest, payload: SkillIn) -> tuple[int, Skill]:
    _manager(request)
    return 201, api_call(lambda: acd_services.save_skill(actor(request), payload.name), _loc)


@acd_router.patch("/skills/{skill_id}", response={200: SkillOut, **ERRORS}, summary="Rename")
def rename_skill(request: HttpRequest, skill_id: int, payload: SkillIn) -> Skill:
    _manager(request)
    skill = get_object_or_404(Skill, pk=skill_id)
    return api_call(lambda: acd_services.save_skill(actor(request), payload.name, skill), _loc)


@acd_router.delete("/skills/{skill_id}", response={204: None, **ERRORS}, summary="Remove a skill")
def remove_skill(request: HttpRequest, skill_id: int) -> tuple[int, None]:
    _manager(request)
    skill = get_object_or_404(Skill, pk=skill_id)
    api_call(lambda: acd_services.delete_skill(actor(request), skill), _loc)
    return 204, None


# --- the matrix -------------------------------------------------------------------------------


class OperatorRow(Schema):
    id: int
    extension: str
    name: str


class Cell(Schema):
    operator_id: int
    skill_id: int
    level: int | None
    version: int


class MatrixOut(Schema):
    operators: list[OperatorRow]
    skills: list[SkillOut]
    cells: list[Cell]


class CellPut(Strict):
    operator_id: int = ID
    skill_id: int = ID
    level: StrictInt | None = Field(ge=MIN_LEVEL, le=MAX_LEVEL)  # true, 2.5, "7": refused
    version: int = Field(ge=0, le=2**31)


class MatrixPut(Strict):
    cells: list[CellPut] = Field(min_length=1, max_length=acd_services.MAX_CELLS)


class StaleCellOut(Schema):
    detail: str
    loc: list[str | int]
    current_version: int
    current_level: int | None


def matrix() -> dict[str, Any]:
    operators = Operator.objects.select_related("user").order_by("extension")[:1000]
    return {
        "operators": [
            {"id": op.pk, "extension": op.extension, "name": str(op.user)} for op in operators
        ],
        "skills": list(Skill.objects.all()[:1000]),
        "cells": list(
            OperatorSkill.objects.values("operator_id", "skill_id", "level", "version")[:100_000]
        ),
    }


@acd_router.get("/matrix", response={200: MatrixOut, **ERRORS}, summary="The skills matrix")
def get_matrix(request: HttpRequest) -> dict[str, Any]:
    _manager(request)
    return matrix()


@acd_router.put(
    "/matrix",
    response={200: MatrixOut, 412: StaleCellOut, **ERRORS},
    summary="Set cells of the skills matrix",
    description="Each cell names the version it was read at (0: empty). `level: null` clears it."
    " All or none; 412 names the first cell someone changed since.",
)
def put_matrix(request: HttpRequest, payload: MatrixPut) -> Any:
    _manager(request)
    cells = [CellIn(c.operator_id, c.skill_id, c.level, c.version) for c in payload.cells]
    try:
        api_call(lambda: acd_services.set_cells(actor(request), cells), _loc)
    except StaleCell as exc:
        detail = _("Someone else changed this cell; reload the matrix and apply your change again.")
        return 412, {
            "detail": detail,
            "loc": ["body", "cells", exc.index],
            "current_version": exc.current_version,
            "current_level": exc.level,
        }
    return matrix()


# --- a queue's routing ------------------------------------------------------------------------


class Need(Strict):
    skill_id: int = ID
    min_level: StrictInt = Field(ge=MIN_LEVEL, le=MAX_LEVEL)


class Step(Strict):
    after_wait_s: int = Field(ge=0, le=MAX_WAIT_S)
    level_drop: int | None = Field(None, ge=1, le=MAX_LEVEL - 1)
    queue_id: int | None = Field(None, ge=1, le=2**62)


class RoutingIn(Strict):
    strategy: str = Field(
        max_length=20,
        json_schema_extra={"enum": [s for s, _l in acd_services.QueueRouting.STRATEGIES]},
    )
    sticky_wait_s: int = Field(0, ge=0, le=3600)
    escalate_after_s: int | None = Field(None, ge=0, le=MAX_WAIT_S)
    use_abc: bool = True
    vip_tag_id: int | None = Field(None, ge=1, le=2**62)
    required: list[Need] = Field(default_factory=list, max_length=100)
    overflow: list[Step] = Field(default_factory=list, max_length=acd_services.MAX_OVERFLOW)
    version: int = Field(ge=0, le=2**31)


class RoutingOut(Schema):
    queue_id: int
    queue: str
    strategy: str
    sticky_wait_s: int
    escalate_after_s: int | None
    use_abc: bool
    vip_tag_id: int | None
    required: list[dict[str, int]]
    overflow: list[dict[str, int | None]]
    version: int


def routing_out(queue: Queue) -> dict[str, Any]:
    row = acd_services.routing_of(queue)
    return {
        "queue_id": queue.pk,
        "queue": queue.name,
        "strategy": row.strategy,
        "sticky_wait_s": row.sticky_wait_s,
        "escalate_after_s": row.escalate_after_s,
        "use_abc": row.use_abc,
        "vip_tag_id": row.vip_tag_id,
        "required": list(queue.required_skills.values("skill_id", "min_level")),
        "overflow": [
            {"after_wait_s": s.after_wait_s, "level_drop": s.level_drop, "queue_id": s.target_id}
            for s in queue.overflow.all()
        ],
        "version": row.version,
    }


def _queue_loc(key: str) -> list[str | int]:
    return _loc(key.replace("target_id", "queue_id"))


@acd_router.get(
    "/queues/{queue_id}/routing", response={200: RoutingOut, **ERRORS}, summary="A queue's routing"
)
def get_routing(request: HttpRequest, queue_id: int) -> dict[str, Any]:
    _manager(request)
    return routing_out(get_object_or_404(Queue, pk=queue_id))


@acd_router.put(
    "/queues/{queue_id}/routing",
    response={200: RoutingOut, 412: Message, **ERRORS},
    summary="Set a queue's routing",
    description="Replaces strategy, required skills and overflow steps; `version` as read "
    "(0 before the first save), 412 when someone saved in between.",
)
def put_routing(request: HttpRequest, queue_id: int, payload: RoutingIn) -> dict[str, Any]:
    _manager(request)
    queue = get_object_or_404(Queue, pk=queue_id)
    data = QueueConfigIn(
        strategy=payload.strategy,
        sticky_wait_s=payload.sticky_wait_s,
        escalate_after_s=payload.escalate_after_s,
        use_abc=payload.use_abc,
        vip_tag_id=payload.vip_tag_id,
        required={n.skill_id: n.min_level for n in payload.required},
        overflow=tuple(
            OverflowIn(s.after_wait_s, s.level_drop, s.queue_id) for s in payload.overflow
        ),
    )
    if len(data.required) != len(payload.required):
        raise field_error(["body", "required"], _("Each skill may be required once."))
    me = actor(request)
    api_call(lambda: acd_services.save_queue_config(me, queue, data, payload.version), _queue_loc)
    return routing_out(queue)


# --- the live path: a cloud PBX asks who takes a call -----------------------------------------


class RouteIn(Strict):
    call_id: str = Field("", max_length=150)
    caller: str = Field(max_length=80)
    queue: str = Field(max_length=80)


class RouteOut(Schema):
    extension: str | None
    operator_id: int | None
    priority: int
    client_id: int | None


def signed_by_pbx(request: HttpRequest) -> str | None:
    """The telephony webhook's signature (HMAC over timestamp + body) with its shared secret."""
    provider = configured()
    if provider is None or SIGNATURE_HEADER not in request.headers:
        return None
    if len(request.body) > MAX_BODY:
        return None
    try:
        provider.verify(request.headers, request.body)
    except Rejected:
        return None
    return "pbx"


def token_user(request: HttpRequest) -> Any:
    from kartoteka.api import TokenAuth  # the API module imports this one

    return TokenAuth()(request)


@route_router.post(
    "",
    auth=[signed_by_pbx, token_user],
    response={200: RouteOut, **ERRORS},
    summary="Who takes this call (ACD)",
    description="Signed like the telephony webhook (X-Kartoteka-Timestamp, X-Kartoteka-Signature)"
    " or with a supervisor's token. `extension` null: put the call in the queue with `priority`.",
)
def route_call(request: HttpRequest, payload: RouteIn) -> dict[str, Any]:
    if request.auth != "pbx":  # type: ignore[attr-defined]
        _manager(request)
    try:
        decision = acd.route(payload.caller, payload.queue, payload.call_id, reserve=True)
    except acd.UnknownQueue:
        raise field_error(["body", "queue"], _("There is no such queue.")) from None
    return {
        "extension": decision.extension or None,
        "operator_id": decision.operator_id,
        "priority": decision.priority,
        "client_id": decision.client_id,
    }
