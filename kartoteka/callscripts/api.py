"""/api/v1/call-scripts (scripts and their steps; supervisors write) and
/api/v1/calls/{id}/script (the run on a call: read it, answer, go back). Thin: services write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from pydantic import field_validator

from kartoteka.callcenter import access
from kartoteka.callcenter import queries as call_queries
from kartoteka.callcenter.models import Disposition, Queue
from kartoteka.callscripts import runner, services
from kartoteka.callscripts.models import Script, Step
from kartoteka.clients.schemas import (
    ERRORS,
    IF_MATCH,
    WRITE_ERRORS,
    Strict,
    expected_version,
    field_error,
)
from kartoteka.core.errors import api_call, body_loc
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor

scripts_router = Router(tags=["call scripts"])
runs_router = Router(tags=["call scripts"])


RENAMED = {
    "next_step": "next_step_id",
    "no_step": "no_step_id",
    "disposition": "disposition_id",
    "option": "option_id",
    "step": "step_id",
    "script": "script_id",
    "queues": "queue_ids",
}
_loc = body_loc(RENAMED)


# --- schemas ----------------------------------------------------------------------------------


class OptionOut(Schema):
    id: int
    label: str
    next_step_id: int | None


class StepOut(Schema):
    id: int
    number: int
    position: int
    text: str
    kind: str
    next_step_id: int | None
    no_step_id: int | None
    disposition_id: int | None
    options: list[OptionOut]


class ScriptOut(Schema):
    id: int
    name: str
    direction: str
    queue_ids: list[int]
    is_active: bool
    version: int


class ScriptDetail(ScriptOut):
    steps: list[StepOut]
    errors: list[str]
    warnings: list[str]


class ScriptIn(Strict):
    name: str = Field(max_length=services.MAX_NAME)
    direction: str = Field(
        "", max_length=3, json_schema_extra={"enum": list(Script.Direction.values)}
    )
    queue_ids: list[int] = Field(default_factory=list, max_length=100)
    is_active: bool = False
    version: int | None = Field(None, ge=1, le=2**31)


class OptionIn(Strict):
    id: int | None = Field(None, ge=1, le=2**62)
    label: str = Field(max_length=services.MAX_LABEL)
    next_step_id: int | None = Field(None, ge=1, le=2**62)


class StepIn(Strict):
    text: str = Field(max_length=services.MAX_TEXT)
    kind: str = Field(max_length=6, json_schema_extra={"enum": list(Step.Kind.values)})
    position: int | None = Field(None, ge=0, le=32767)
    next_step_id: int | None = Field(None, ge=1, le=2**62)
    no_step_id: int | None = Field(None, ge=1, le=2**62)
    disposition_id: int | None = Field(None, ge=1, le=2**62)
    options: list[OptionIn] = Field(default_factory=list, max_length=services.MAX_OPTIONS)
    version: int | None = Field(None, ge=1, le=2**31)


class AnswerOut(Schema):
    step_id: int | None
    said: str
    value: str
    option_id: int | None
    at: dt.datetime


class RunOut(Schema):
    script_id: int | None
    script_name: str | None
    script_version: int | None
    run_script_version: int | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    step: StepOut | None
    said: str
    path: list[AnswerOut]
    can_answer: bool


class AnswerIn(Strict):
    script_id: int | None = Field(None, ge=1, le=2**62)
    step_id: int = Field(ge=1, le=2**62)
    option_id: int | None = Field(None, ge=1, le=2**62)
    # Text, a number (as text or a JSON number) or "yes"/"no".
    value: str | None = Field(None, max_length=runner.MAX_ANSWER)

    @field_validator("value", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value


# --- building responses -----------------------------------------------------------------------


def _step_out(step: Step, numbers: dict[int, int]) -> dict[str, Any]:
    return {
        **{
            name: getattr(step, name)
            for name in StepOut.model_fields
            if name not in ("number", "options")
        },
        "id": step.pk,
        "number": numbers.get(step.pk, 0),
        "options": [
            {"id": o.pk, "label": o.label, "next_step_id": o.next_step_id}
            for o in step.options.all()
        ],
    }


def _script_out(script: Script) -> dict[str, Any]:
    return {
        "id": script.pk,
        "name": script.name,
        "direction": script.direction,
        "queue_ids": [q.pk for q in script.queues.all()],
        "is_active": script.is_active,
        "version": script.version,
    }


def _detail(script: Script, response: HttpResponse) -> dict[str, Any]:
    script.refresh_from_db()
    steps = services.live_steps(script)
    numbers = services.step_numbers(steps)
    found = services.graph.check(services.nodes(steps))
    response["ETag"] = f'"{script.version}"'
    return {
        **_script_out(script),
        "steps": [_step_out(s, numbers) for s in steps],
        "errors": found.errors,
        "warnings": found.warnings,
    }


def _script(request: HttpRequest, script_id: int, write: bool = True) -> Script:
    (access.require_runs_centre if write else access.require_calls)(actor(request))
    script = Script.objects.filter(pk=script_id).first()
    if script is None:
        raise Http404
    return script


def _data(payload: ScriptIn) -> services.ScriptData:
    queues = list(Queue.objects.filter(pk__in=payload.queue_ids))
    if len(queues) != len(set(payload.queue_ids)):
        raise field_error(["body", "queue_ids"], _("There is no such queue."))
    return services.ScriptData(payload.name, payload.direction, payload.is_active, queues)


# --- scripts ----------------------------------------------------------------------------------


@scripts_router.get("", response={200: list[ScriptOut], **ERRORS}, summary="List call scripts")
def list_scripts(request: HttpRequest) -> list[dict[str, Any]]:
    access.require_calls(actor(request))
    return [_script_out(s) for s in Script.objects.prefetch_related("queues")[:500]]


@scripts_router.post("", response={201: ScriptDetail, **ERRORS}, summary="Create a call script")
def create_script(
    request: HttpRequest, payload: ScriptIn, response: HttpResponse
) -> tuple[int, dict[str, Any]]:
    me = actor(request)
    access.require_runs_centre(me)
    script = api_call(lambda: services.create_script(me, _data(payload)), _loc)
    return 201, _detail(script, response)


@scripts_router.get(
    "/{script_id}", response={200: ScriptDetail, **ERRORS}, summary="Read a script with its steps"
)
def read_script(request: HttpRequest, script_id: int, response: HttpResponse) -> dict[str, Any]:
    return _detail(_script(request, script_id, write=False), response)


@scripts_router.patch(
    "/{script_id}", response={200: ScriptDetail, **WRITE_ERRORS}, summary="Change a script"
)
def update_script(
    request: HttpRequest,
    script_id: int,
    payload: ScriptIn,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    script = _script(request, script_id)
    version = expected_version(if_match, payload.version)
    data = _data(payload)
    api_call(lambda: services.update_script(actor(request), script, version, data), _loc)
    return _detail(script, response)


@scripts_router.delete(
    "/{script_id}", response={204: None, **ERRORS}, summary="Move a script to the trash"
)
def trash_script(request: HttpRequest, script_id: int) -> tuple[int, None]:
    services.trash_script(actor(request), _script(request, script_id))
    return 204, None


@scripts_router.post(
    "/{script_id}/restore", response={200: ScriptDetail, **ERRORS}, summary="Restore a script"
)
def restore_script(request: HttpRequest, script_id: int, response: HttpResponse) -> dict[str, Any]:
    access.require_runs_centre(actor(request))
    script = Script.all_objects.filter(pk=script_id, deleted_at__isnull=False).first()
    if script is None:
        raise Http404
    services.restore_script(actor(request), script)
    return _detail(script, response)


# --- steps ------------------------------------------------------------------------------------


def _step_data(payload: StepIn) -> services.StepData:
    disposition = None
    if payload.disposition_id is not None:
        disposition = Disposition.objects.filter(pk=payload.disposition_id).first()
        if disposition is None:
            raise field_error(["body", "disposition_id"], _("There is no such result."))
    return services.StepData(
        text=payload.text,
        kind=payload.kind,
        position=payload.position,
        next_step_id=payload.next_step_id,
        no_step_id=payload.no_step_id,
        disposition=disposition,
        options=[services.OptionData(o.label, o.next_step_id, o.id) for o in payload.options],
    )


def _save_step(
    request: HttpRequest, script_id: int, step_id: int | None, payload: StepIn, if_match: str | None
) -> Script:
    script = _script(request, script_id)
    step = Step.objects.filter(pk=step_id, script=script).first() if step_id else None
    if step_id and step is None:
        raise Http404
    version = expected_version(if_match, payload.version)
    data = _step_data(payload)
    api_call(lambda: services.save_step(actor(request), script, version, step, data), _loc)
    return script


@scripts_router.post(
    "/{script_id}/steps", response={201: ScriptDetail, **WRITE_ERRORS}, summary="Add a step"
)
def add_step(
    request: HttpRequest,
    script_id: int,
    payload: StepIn,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> tuple[int, dict[str, Any]]:
    return 201, _detail(_save_step(request, script_id, None, payload, if_match), response)


@scripts_router.put(
    "/{script_id}/steps/{step_id}",
    response={200: ScriptDetail, **WRITE_ERRORS},
    summary="Change a step; its options are replaced by the list sent",
)
def change_step(
    request: HttpRequest,
    script_id: int,
    step_id: int,
    payload: StepIn,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    return _detail(_save_step(request, script_id, step_id, payload, if_match), response)


@scripts_router.delete(
    "/{script_id}/steps/{step_id}",
    response={200: ScriptDetail, **WRITE_ERRORS},
    summary="Delete a step",
)
def delete_step(
    request: HttpRequest,
    script_id: int,
    step_id: int,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    script = _script(request, script_id)
    step = Step.objects.filter(pk=step_id, script=script).first()
    if step is None:
        raise Http404
    version = expected_version(if_match, None)
    api_call(lambda: services.delete_step(actor(request), script, version, step), _loc)
    return _detail(script, response)


# --- the run on a call ------------------------------------------------------------------------


def _run_out(state: runner.State | None) -> dict[str, Any]:
    if state is None:
        empty: dict[str, Any] = dict.fromkeys(RunOut.model_fields)
        return {**empty, "said": "", "path": [], "can_answer": False}
    run = state.run
    step = None
    if state.step is not None:
        step = {**_step_out(state.step, {state.step.pk: state.number or 0}), "text": state.said}
    return {
        "script_id": state.script.pk,
        "script_name": state.script.name,
        "script_version": state.script.version,
        "run_script_version": run.script_version if run else None,
        "started_at": run.started_at if run else None,
        "finished_at": run.finished_at if run else None,
        "step": step,
        "said": state.said,
        "path": [
            {
                "step_id": a.step_id,
                "said": a.said,
                "value": a.value,
                "option_id": a.option_id,
                "at": a.at,
            }
            for a in state.path
        ],
        "can_answer": state.can_answer,
    }


@runs_router.get(
    "/{call_id}/script", response={200: RunOut, **ERRORS}, summary="The script on a call"
)
def read_run(request: HttpRequest, call_id: int) -> dict[str, Any]:
    me = actor(request)
    return _run_out(runner.state(me, call_queries.card(me, call_id)))


@runs_router.post(
    "/{call_id}/script",
    response={200: RunOut, **ERRORS},
    summary="Answer the step the script stands on (the first answer starts the run)",
)
def answer(request: HttpRequest, call_id: int, payload: AnswerIn) -> dict[str, Any]:
    me = actor(request)
    call = call_queries.card(me, call_id, Action.EDIT)
    value = payload.value or ""
    state = api_call(
        lambda: runner.answer(
            me, call, payload.script_id, payload.step_id, payload.option_id, value
        ),
        _loc,
    )
    return _run_out(state)


@runs_router.post(
    "/{call_id}/script/back", response={200: RunOut, **ERRORS}, summary="Take back the last answer"
)
def back(request: HttpRequest, call_id: int) -> dict[str, Any]:
    me = actor(request)
    call = call_queries.card(me, call_id, Action.EDIT)
    return _run_out(api_call(lambda: runner.back(me, call), _loc))
