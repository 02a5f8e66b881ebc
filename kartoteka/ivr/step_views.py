"""The JSON step API for cloud PBXes: start a menu for a call, post what the caller pressed, get
the next action. Outside sessions and CSRF; signed like the telephony webhook (HMAC-SHA256 over
the timestamp and the raw body, same secret, same headers, same window). The signature does not
cover the URL, so a step's body names its session and the session's step number: a captured
request replayed (to the same session or another) is refused, and two identical presses differ.

    POST /telephony/ivr/start/        {"call_id", "from", "to"[, "menu_id"]}
    POST /telephony/ivr/<session>/    {"session", "step", "digits": "12#"} or {…, "timeout": true}
    -> {"session", "step", "say": [{"text", "sound", "digits"}],
        "then": {"type": "collect" | "route" | "hangup", …}, "values": {…}}
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kartoteka.callcenter.providers.webhook.provider import Rejected
from kartoteka.callcenter.providers.webhook.views import NOT_CONFIGURED, check_length, configured
from kartoteka.ivr import engine, runtime
from kartoteka.ivr.models import Session

DIGITS = r"^[0-9*#]{0,32}$"


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    call_id: str = Field(min_length=1, max_length=150, pattern=r"^[\x21-\x7e]+$")
    caller: str = Field("", alias="from", max_length=80)
    callee: str = Field("", alias="to", max_length=80)
    menu_id: int | None = Field(None, ge=1, le=2**62)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session: str = Field(min_length=1, max_length=64)
    # Checked against the session under its lock (409 when stale or missing), not here.
    step: int | None = Field(None, ge=1, le=2**31)

    digits: str | None = Field(None, max_length=32, pattern=DIGITS)
    timeout: bool = False

    @model_validator(mode="after")
    def _one(self) -> StepIn:
        if (self.digits is None) == (not self.timeout):
            raise ValueError("send either digits or timeout: true")
        return self


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": ["body", *[str(p) for p in e["loc"]]],
            "msg": str(e["msg"]).removeprefix("Value error, "),
            "type": e["type"],
        }
        for e in exc.errors(include_url=False, include_input=False)
    ]


def _signed(request: HttpRequest, schema: type[BaseModel]) -> tuple[int, Any]:
    """(0, the parsed body) when signed and valid; else (status, answer)."""
    provider = configured()
    if provider is None:
        return 404, {"detail": NOT_CONFIGURED}
    refused = check_length(request.headers.get("Content-Length", ""))
    if refused:
        return refused
    try:
        provider.verify(request.headers, request.body)
    except Rejected as exc:
        return exc.status, {"detail": exc.detail}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # too deep: not JSON we read
        return 400, {"detail": "The body is not valid JSON."}
    if not isinstance(data, dict):
        return 422, {
            "detail": [{"loc": ["body"], "msg": "Send a JSON object.", "type": "value_error"}]
        }
    try:
        return 0, schema.model_validate(data)
    except ValidationError as exc:
        return 422, {"detail": _errors(exc)}


def _answer(session: Session, step: engine.Step) -> JsonResponse:
    return JsonResponse(
        {"session": session.token, "step": session.steps, **runtime.action_json(step)}
    )


def _stale(current: int) -> JsonResponse:
    detail = [
        {
            "loc": ["body", "step"],
            "msg": f"Send the step of the last answer, {current}: this one is stale or a replay.",
            "type": "stale_step",
        }
    ]
    return JsonResponse({"detail": detail, "step": current}, status=409)


@csrf_exempt
@login_not_required
@require_POST
def start(request: HttpRequest) -> JsonResponse:
    status, body = _signed(request, StartIn)
    if status:
        return JsonResponse(body, status=status, safe=False)
    try:
        session, step = runtime.start_session(
            "webhook", body.call_id, body.caller, body.callee, body.menu_id
        )
    except runtime.NoMenu:
        return JsonResponse({"detail": "No active menu answers this number."}, status=404)
    return _answer(session, step)


@csrf_exempt
@login_not_required
@require_POST
def step(request: HttpRequest, token: str) -> JsonResponse:
    status, body = _signed(request, StepIn)
    if status:
        return JsonResponse(body, status=status, safe=False)
    if body.session != token:  # a body signed for another session
        detail = [
            {
                "loc": ["body", "session"],
                "msg": "The session must be the one in the URL.",
                "type": "value_error",
            }
        ]
        return JsonResponse({"detail": detail}, status=422)
    try:
        session, next_step = runtime.feed_session(
            token[:64], None if body.timeout else body.digits, body.step
        )
    except runtime.StaleStep as exc:
        return _stale(exc.current)
    except Session.DoesNotExist:
        return JsonResponse({"detail": "There is no such session."}, status=404)
    except engine.Ended:
        return JsonResponse({"detail": "This call has left the menu."}, status=409)
    return _answer(session, next_step)
