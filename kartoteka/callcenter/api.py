"""/api/v1/calls and /api/v1/operators. Thin: reads through queries (scoped), writes through
services; a call's card changes with its version (If-Match or `version`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kartoteka.accounts.models import User
from kartoteka.callcenter import board as board_stream
from kartoteka.callcenter import operators, queries, services
from kartoteka.callcenter.models import BreakReason, Call, Disposition, Operator
from kartoteka.clients.queries import visible_clients
from kartoteka.clients.schemas import (
    IF_MATCH,
    Message,
    StaleOut,
    Strict,
    expected_version,
    field_error,
    with_cursor,
)
from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion, api_call
from kartoteka.core.pagination import keyset_page
from kartoteka.core.permissions import Action, Denied
from kartoteka.core.views import actor

calls_router = Router(tags=["calls"])
operators_router = Router(tags=["calls"])
ERRORS: dict[int, Any] = {403: Message, 404: Message}
RENAMED = {"disposition": "disposition_id", "client": "client_id"}


def _loc(key: str) -> list[str | int]:
    return ["body"] if key == "__all__" else ["body", RENAMED.get(key, key)]


# --- schemas ----------------------------------------------------------------------------------


class CallOut(Schema):
    id: int
    direction: str
    status: str
    caller: str
    caller_e164: str
    callee: str
    callee_e164: str
    client_id: int | None
    user_id: int | None
    extension: str
    queue: str
    ivr: dict[str, str]
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    wait_seconds: int | None
    talk_seconds: int | None
    disposition_id: int | None
    disposition: str | None
    summary: str
    recording_url: str
    callback_task_id: int | None
    called_back_at: dt.datetime | None
    version: int


class CallPage(Schema):
    items: list[CallOut]
    next_cursor: str | None


class CallQuery(Strict):
    status: str | None = Field(None, max_length=12)
    direction: str | None = Field(None, max_length=3)
    mine: bool = False
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


class CallPatch(Strict):
    disposition_id: int | None = Field(None, ge=1, le=2**62)
    summary: str | None = Field(None, max_length=services.MAX_SUMMARY)
    client_id: int | None = Field(None, ge=1, le=2**62)
    version: int | None = Field(None, ge=1, le=2**31)


class DialIn(Strict):
    number: str = Field(max_length=40)


class DialOut(Schema):
    number: str


class OperatorOut(Schema):
    extension: str
    status: str
    since: dt.datetime
    break_reason_id: int | None
    acw_until: dt.datetime | None


class OperatorRow(Schema):
    id: int
    user_id: int
    extension: str
    acw_seconds: int
    status: str
    since: dt.datetime
    version: int


class OperatorIn(Strict):
    user_id: int = Field(ge=1, le=2**62)
    extension: str = Field(max_length=40)
    acw_seconds: int = Field(60, ge=0, le=operators.MAX_ACW)


class OperatorPatch(Strict):
    user_id: int | None = Field(None, ge=1, le=2**62)
    extension: str | None = Field(None, max_length=40)
    acw_seconds: int | None = Field(None, ge=0, le=operators.MAX_ACW)
    version: int | None = Field(None, ge=1, le=2**31)


class Removed(Schema):
    result: str = Field(description="deleted (no calls to keep) or removed (history kept)")


class StatusIn(Strict):
    status: str = Field(max_length=12, json_schema_extra={"enum": list(Operator.CHOSEN)})
    break_reason_id: int | None = Field(None, ge=1, le=2**62)


class BoardOperatorOut(Schema):
    extension: str
    name: str
    status: str
    since: dt.datetime
    seconds: int
    over_limit: bool
    break_reason: str | None
    call_id: int | None


class BoardQueueOut(Schema):
    name: str
    count: int
    oldest: dt.datetime
    longest_seconds: int


class BoardOut(Schema):
    now: dt.datetime
    operators: list[BoardOperatorOut]
    queues: list[BoardQueueOut]


def call_out(call: Call) -> dict[str, Any]:
    return {
        **{name: getattr(call, name) for name in CallOut.model_fields if hasattr(call, name)},
        "disposition": call.disposition.name if call.disposition_id and call.disposition else None,
    }


# --- calls ------------------------------------------------------------------------------------


@calls_router.get("", response=CallPage, summary="List calls, newest first")
def list_calls(request: HttpRequest, filters: Query[CallQuery]) -> dict[str, Any]:
    unknown = sorted(set(request.GET) - set(CallQuery.model_fields))
    if unknown:
        raise field_error(["query", unknown[0][:100]], _("There is no such filter."))
    if filters.status and filters.status not in queries.STATUS_FILTERS:
        raise field_error(["query", "status"], _("There is no such status."))
    if filters.direction and filters.direction not in Call.Direction.values:
        raise field_error(["query", "direction"], _("Send in or out."))
    me = actor(request)
    rows = queries.filter_calls(
        queries.visible_calls(me),
        status=filters.status or "",
        direction=filters.direction or "",
        user_id=me.pk if filters.mine else None,
    ).select_related("disposition")
    page = with_cursor(lambda: keyset_page(rows, "started_at", True, filters.cursor, filters.limit))
    return {"items": [call_out(c) for c in page.rows], "next_cursor": page.next_cursor}


@calls_router.post(
    "/dial", response={200: DialOut, **ERRORS}, summary="Click-to-call from your extension"
)
def dial(request: HttpRequest, payload: DialIn) -> dict[str, Any]:
    me = actor(request)
    return {"number": api_call(lambda: services.click_to_call(me, payload.number), _loc)}


@calls_router.get("/{call_id}", response={200: CallOut, **ERRORS}, summary="Read a call")
def read_call(request: HttpRequest, call_id: int, response: HttpResponse) -> dict[str, Any]:
    call = queries.card(actor(request), call_id)
    response["ETag"] = f'"{call.version}"'
    return call_out(call)


@calls_router.patch(
    "/{call_id}",
    response={200: CallOut, 412: StaleOut, 428: Message, **ERRORS},
    summary="Fill in a call's result, summary or client",
    description="Needs If-Match or `version`: 428 without, 412 when stale.",
)
def patch_call(
    request: HttpRequest,
    call_id: int,
    payload: CallPatch,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    me = actor(request)
    call = queries.card(me, call_id, Action.EDIT)
    expected = expected_version(if_match, payload.version)
    if expected != call.version:
        raise StaleVersion(call.version)
    sent = payload.model_fields_set
    fields: dict[str, Any] = {}
    if "disposition_id" in sent:
        fields["disposition"] = None
        if payload.disposition_id is not None:
            fields["disposition"] = Disposition.objects.filter(pk=payload.disposition_id).first()
            if fields["disposition"] is None:
                raise field_error(["body", "disposition_id"], _("There is no such result."))
    if "summary" in sent:
        fields["summary"] = payload.summary or ""
    if "client_id" in sent:
        client = visible_clients(me).filter(pk=payload.client_id or 0).first()
        if client is None:
            raise field_error(["body", "client_id"], _("There is no such client."))
        fields["client"] = client
    saved = api_call(lambda: services.save_call_card(me, call, expected, fields), _loc)
    saved = queries.card(me, saved.pk)
    response["ETag"] = f'"{saved.version}"'
    return call_out(saved)


# --- the operator's own status ----------------------------------------------------------------


def _me(request: HttpRequest) -> Operator:
    operator = Operator.objects.filter(user=actor(request)).first()
    if operator is None:
        raise Http404
    return operator


@operators_router.get("/me", response={200: OperatorOut, **ERRORS}, summary="My status")
def my_status(request: HttpRequest) -> Operator:
    return _me(request)


@operators_router.post("/me/status", response={200: OperatorOut, **ERRORS}, summary="Set my status")
def set_my_status(request: HttpRequest, payload: StatusIn) -> Operator:
    operator = _me(request)
    reason = None
    if payload.break_reason_id is not None:
        reason = BreakReason.objects.filter(pk=payload.break_reason_id).first()
        if reason is None:
            raise field_error(["body", "break_reason_id"], _("There is no such reason."))
    return api_call(
        lambda: services.set_status(actor(request), operator, payload.status, break_reason=reason),
        lambda key: ["body", "break_reason_id" if key == "break_reason" else key],
    )


# --- the operator list (administrators) -------------------------------------------------------

OPERATOR_LOC = {"user": "user_id"}


def _operator_loc(key: str) -> list[str | int]:
    return ["body"] if key == "__all__" else ["body", OPERATOR_LOC.get(key, key)]


def _configured(request: HttpRequest, operator_id: int) -> tuple[User, Operator]:
    me = actor(request)
    permissions.require(me, Action.CONFIGURE)
    operator = Operator.objects.filter(pk=operator_id).first()
    if operator is None:
        raise Http404
    return me, operator


def _user_field(user_id: int) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise field_error(["body", "user_id"], _("There is no such active user."))
    return user


@operators_router.get(
    "", response={200: list[OperatorRow], **ERRORS}, summary="Operators you may see"
)
def list_operators(request: HttpRequest) -> list[Operator]:
    return list(queries.visible_operators(actor(request)).order_by("extension")[:1000])


@operators_router.post(
    "", response={201: OperatorRow, **ERRORS}, summary="Add an operator (administrators)"
)
def create_operator(request: HttpRequest, payload: OperatorIn) -> tuple[int, Operator]:
    me = actor(request)
    permissions.require(me, Action.CONFIGURE)
    fields = {
        "user": _user_field(payload.user_id),
        "extension": payload.extension,
        "acw_seconds": payload.acw_seconds,
    }
    return 201, api_call(lambda: operators.add_operator(me, fields), _operator_loc)


@operators_router.patch(
    "/{int:operator_id}",
    response={200: OperatorRow, 412: StaleOut, 428: Message, **ERRORS},
    summary="Change an operator's extension, after-call work or user (administrators)",
    description="Needs If-Match or `version`: 428 without, 412 when stale.",
)
def update_operator(
    request: HttpRequest,
    operator_id: int,
    payload: OperatorPatch,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> Operator:
    me, operator = _configured(request, operator_id)
    expected = expected_version(if_match, payload.version)
    fields: dict[str, Any] = {}
    sent = payload.model_fields_set - {"version"}
    for name in sent:
        value = getattr(payload, name)
        if value is None:
            raise field_error(["body", name], _("This field cannot be empty."))
        fields[name.removesuffix("_id")] = _user_field(value) if name == "user_id" else value
    saved = api_call(
        lambda: operators.update_operator(me, operator, expected, fields), _operator_loc
    )
    response["ETag"] = f'"{saved.version}"'
    return saved


@operators_router.delete(
    "/{int:operator_id}",
    response={200: Removed, **ERRORS},
    summary="Remove an operator (administrators); one with calls is kept off the list",
)
def delete_operator(request: HttpRequest, operator_id: int) -> dict[str, str]:
    me, operator = _configured(request, operator_id)
    return {"result": api_call(lambda: operators.remove_operator(me, operator), _operator_loc)}


@operators_router.get(
    "/board",
    response={200: BoardOut, **ERRORS},
    summary="The supervisor's board: operators, queues",
)
def board(request: HttpRequest) -> dict[str, Any]:
    """The same board as /calls/board/ (live there over SSE), for the operators and queues the
    caller may see; poll it, it costs two queries."""
    user = actor(request)
    if not board_stream.supervises(user):
        raise Denied(Action.VIEW)
    now = queries.board(user)
    return {
        "now": now.now,
        "operators": [
            {
                "extension": op.extension,
                "name": str(op.user),
                "status": op.status,
                "since": op.since,
                "seconds": op.seconds,  # type: ignore[attr-defined]
                "over_limit": op.over_limit,  # type: ignore[attr-defined]
                "break_reason": op.break_reason.name if op.break_reason else None,
                "call_id": op.call_id,
            }
            for op in now.operators
        ],
        "queues": [
            {
                "name": queue["name"],
                "count": queue["count"],
                "oldest": queue["oldest"],
                "longest_seconds": queue["longest"],
            }
            for queue in now.queues
        ],
    }
