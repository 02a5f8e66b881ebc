"""What every telephony provider speaks: normalized events in, PBX actions out.

A provider turns its PBX's wire format (signed webhooks, AMI frames, ...) into
`CallEvent` and `OperatorEvent` values and hands them to a sink — in the product
`kartoteka.callcenter.services.handle_event`, in tests a list. Each event carries
an `event_id` that is stable across redeliveries, so the sink can drop repeats.
Actions towards the PBX (click-to-call, queue membership, pause) are the methods
of `Provider`; a provider that cannot do one raises `Unsupported`.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar


class CallEventKind(StrEnum):
    RINGING = "ringing"  # offered to an operator (extension set) or entering the PBX
    QUEUED = "queued"  # the caller joined a queue
    ANSWERED = "answered"
    ENDED = "ended"
    ABANDONED = "abandoned"  # the caller hung up while waiting in a queue
    RECORDING = "recording"  # the recording of an ended call is ready


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class OperatorState(StrEnum):
    AVAILABLE = "available"
    PAUSED = "paused"
    OFFLINE = "offline"  # not a member of the queue / not logged in


@dataclass(frozen=True, slots=True)
class CallEvent:
    provider: str
    event_id: str  # stable across redeliveries: the idempotency key
    kind: CallEventKind
    call_id: str  # the provider's id of the whole call (Asterisk: Linkedid)
    at: dt.datetime  # aware
    direction: Direction = Direction.INBOUND
    caller: str = ""  # the number as the PBX gave it; not normalized
    callee: str = ""
    queue: str = ""
    extension: str = ""  # the operator's extension, when the event concerns one
    recording_url: str = ""
    reason: str = ""  # hangup cause, abandon reason
    ivr: Mapping[str, str] = field(default_factory=dict)  # what the caller chose or entered


@dataclass(frozen=True, slots=True)
class OperatorEvent:
    provider: str
    event_id: str
    extension: str
    state: OperatorState
    at: dt.datetime
    queue: str = ""
    reason: str = ""  # pause reason as the PBX reports it


Event = CallEvent | OperatorEvent
Sink = Callable[[Event], None]


class Unsupported(Exception):
    """The provider cannot perform this action."""


class ProviderError(Exception):
    """The PBX refused or could not be reached; the message is safe to show."""


class Provider(ABC):
    """One telephony integration; subclasses live in `providers/<code>/`."""

    code: ClassVar[str]
    name: ClassVar[str]

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    @abstractmethod
    def originate(self, extension: str, number: str) -> None:
        """Click-to-call: ring the operator's extension, then dial the number."""

    def set_state(
        self, extension: str, state: OperatorState, queue: str = "", reason: str = ""
    ) -> None:
        """Keep the PBX's view of an operator in step with the CRM's."""
        raise Unsupported(self.code)
