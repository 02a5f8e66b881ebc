"""The webhook's JSON events (documented in docs/callcenter.md); unknown keys are refused."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from kartoteka.callcenter.providers.base import (
    CallEvent,
    CallEventKind,
    Direction,
    Event,
    OperatorEvent,
    OperatorState,
)

CALL_TYPES = {f"call.{kind.value}": kind for kind in CallEventKind}
OPERATOR_TYPES = {f"operator.{state.value}": state for state in OperatorState}
MAX_EVENTS = 100


class WebhookEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    type: Literal[
        "call.ringing",
        "call.queued",
        "call.answered",
        "call.ended",
        "call.abandoned",
        "call.recording",
        "operator.available",
        "operator.paused",
        "operator.offline",
    ]
    at: AwareDatetime
    call_id: str = Field("", max_length=150)
    direction: Literal["in", "out"] = "in"
    from_: str = Field("", alias="from", max_length=80)
    to: str = Field("", max_length=80)
    queue: str = Field("", max_length=80)
    extension: str = Field("", max_length=40)
    recording_url: str = Field("", max_length=500, pattern=r"^(https?://\S+)?$")
    reason: str = Field("", max_length=100)
    ivr: dict[str, str] = Field(default_factory=dict, max_length=20)

    @model_validator(mode="after")
    def _needs(self) -> WebhookEvent:
        if self.type.startswith("call.") and not self.call_id:
            raise ValueError("call_id: a call event needs the call's id")
        if self.type.startswith("operator.") and not self.extension:
            raise ValueError("extension: an operator event needs the extension")
        if self.type == "call.recording" and not self.recording_url:
            raise ValueError("recording_url: a recording event needs the recording's URL")
        for key, value in self.ivr.items():
            if len(key) > 60 or len(value) > 200:
                raise ValueError("ivr: keys at most 60 characters, values at most 200")
        return self

    def normalized(self, provider: str) -> Event:
        if self.type in OPERATOR_TYPES:
            return OperatorEvent(
                provider=provider,
                event_id=self.id,
                extension=self.extension,
                state=OPERATOR_TYPES[self.type],
                at=self.at,
                queue=self.queue,
                reason=self.reason,
            )
        return CallEvent(
            provider=provider,
            event_id=self.id,
            kind=CALL_TYPES[self.type],
            call_id=self.call_id,
            at=self.at,
            direction=Direction(self.direction),
            caller=self.from_,
            callee=self.to,
            queue=self.queue,
            extension=self.extension,
            recording_url=self.recording_url,
            reason=self.reason,
            ivr=dict(self.ivr),
        )
