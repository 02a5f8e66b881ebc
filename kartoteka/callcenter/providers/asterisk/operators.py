"""Queue members' AMI events → operator states (available, paused, offline)."""

from __future__ import annotations

import datetime as dt

from kartoteka.callcenter.providers.asterisk.channels import extension_of
from kartoteka.callcenter.providers.asterisk.config import AmiConfig
from kartoteka.callcenter.providers.asterisk.protocol import Message
from kartoteka.callcenter.providers.base import Event, OperatorEvent, OperatorState

PROVIDER = "asterisk"
# QueueMember* "Status" device states that mean the phone is not reachable.
OFFLINE_DEVICE_STATES = {"4", "5"}  # AST_DEVICE_INVALID, AST_DEVICE_UNAVAILABLE
# The pause reason that means "offline" (static members cannot leave a queue over AMI).
OFFLINE_REASON = "offline"
# Where a member event names the member's phone, best first (QueueMember says Location).
INTERFACE_KEYS = ("StateInterface", "Interface", "Location", "MemberName", "Name")


class Operators:
    """The last state told per (extension, queue): only changes become events."""

    def __init__(self, config: AmiConfig) -> None:
        self.config = config
        self.last: dict[tuple[str, str], tuple[OperatorState, str]] = {}

    def member(self, message: Message, at: dt.datetime) -> list[Event]:
        """QueueMemberAdded / QueueMemberStatus / QueueMemberPause / QueueMember."""
        if message.get("Paused") == "1":
            reason = message.get("PausedReason") or message.get("Reason") or ""
            if reason.lower() == OFFLINE_REASON:  # how set_state takes a static member offline
                return self._told(message, OperatorState.OFFLINE, "", at)
            return self._told(message, OperatorState.PAUSED, reason, at)
        if message.get("Status") in OFFLINE_DEVICE_STATES:
            return self._told(message, OperatorState.OFFLINE, "", at)
        return self._told(message, OperatorState.AVAILABLE, "", at)

    def removed(self, message: Message, at: dt.datetime) -> list[Event]:
        return self._told(message, OperatorState.OFFLINE, "", at)

    def _told(
        self, message: Message, state: OperatorState, reason: str, at: dt.datetime
    ) -> list[Event]:
        extension = next(
            (
                ext
                for key in INTERFACE_KEYS
                if (ext := extension_of(message.get(key, ""), self.config.extension_pattern))
            ),
            "",
        )
        queue = message.get("Queue", "")
        if not extension or self.last.get((extension, queue)) == (state, reason):
            return []  # not an operator's phone, or device chatter that changes nothing shown
        self.last[(extension, queue)] = (state, reason)
        stamp = message.get("Timestamp") or f"{at.timestamp():.6f}"
        return [
            OperatorEvent(
                provider=PROVIDER,
                event_id=f"op:{queue}:{extension}:{state.value}:{stamp}",
                extension=extension,
                state=state,
                at=at,
                queue=queue,
                reason=reason,
            )
        ]
