"""AMI events in, normalized call and operator events out — no sockets, no database.

Asterisk reports channels (one per leg: the caller's trunk channel, the operator's
phone, Local helpers of a queue); a call is every channel sharing a Linkedid, the
Uniqueid of the channel that started it. The correlator keeps the live channels and
calls, and turns their story into `CallEvent`s:

    root Newchannel → RINGING (no extension)     QueueCallerJoin → QUEUED
    DialBegin/AgentCalled to an operator → RINGING (extension)
    DialEnd ANSWER/AgentConnect → ANSWERED        QueueCallerAbandon → ABANDONED (final)
    last channel's Hangup → ENDED (then RECORDING when MixMonitor named a file)

Event ids are built from the Linkedid, the kind and a stable detail (queue, extension),
never from arrival order, so the same call seen twice — a replayed stream, a
CoreShowChannels listing after a reconnect — yields the same ids; ids already emitted
are not emitted again, and the sink drops repeats across restarts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from kartoteka.callcenter.providers.asterisk.channels import (
    extension_of,
    number,
    seconds,
    timestamp,
)
from kartoteka.callcenter.providers.asterisk.config import AmiConfig
from kartoteka.callcenter.providers.asterisk.operators import PROVIDER, Operators
from kartoteka.callcenter.providers.asterisk.protocol import Message
from kartoteka.callcenter.providers.base import (
    CallEvent,
    CallEventKind,
    Direction,
    Event,
)

log = logging.getLogger(__name__)

SEEN_LIMIT = 50_000  # event ids remembered to drop repeats within one process
CHANNEL_LIMIT = 20_000  # a PBX never holds this many live channels; a hostile stream might
RECORDING_VARIABLE = "MIXMONITOR_FILENAME"
Kind = CallEventKind
# Events a PBX sends all the time that say nothing the CRM needs (not counted as unknown).
EXPECTED_NOISE = (
    "FullyBooted",
    "Newexten",
    "NewCallerid",
    "NewConnectedLine",
    "NewAccountCode",
    "DialState",
    "BridgeCreate",
    "BridgeLeave",
    "BridgeDestroy",
    "HangupRequest",
    "SoftHangupRequest",
    "OriginateResponse",
    "AgentRingNoAnswer",
    "QueueParams",
    "QueueEntry",
    "QueueStatusComplete",
    "DeviceStateChange",
    "ExtensionStatus",
    "PeerStatus",
    "ContactStatus",
    "RTCPSent",
    "RTCPReceived",
    "MixMonitorStart",
    "MixMonitorStop",
    "LocalBridge",
    "LocalOptimizationBegin",
    "LocalOptimizationEnd",
    "MusicOnHoldStart",
    "MusicOnHoldStop",
    "Hold",
    "Unhold",
    "DTMFBegin",
    "DTMFEnd",
    "Cdr",
    "Cel",
    "SuccessfulAuth",
    "ChallengeSent",
)
# Channel attribute ← AMI field (with "Dest" before it for the dialled side).
FIELDS = (
    ("name", "Channel"),
    ("state", "ChannelStateDesc"),
    ("exten", "Exten"),
    ("caller", "CallerIDNum"),
)


@dataclass
class Channel:
    uniqueid: str
    linkedid: str
    name: str = ""
    state: str = ""  # ChannelStateDesc: Down, Ring, Ringing, Up, ...
    exten: str = ""
    caller: str = ""  # CallerIDNum
    duration: int = 0  # seconds, as a CoreShowChannels listing reports it
    application: str = ""
    app_data: str = ""
    bridged: bool = False


@dataclass
class Call:
    linkedid: str
    direction: Direction = Direction.INBOUND
    caller: str = ""
    callee: str = ""
    queue: str = ""
    operator: str = ""  # the extension that answered (inbound) or dialled out
    reason: str = ""
    recording: str = ""
    started: bool = False
    answered: bool = False
    abandoned: bool = False
    channels: set[str] = field(default_factory=set)
    ivr: dict[str, str] = field(default_factory=dict)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Correlator:
    """Feed AMI event dicts in order with `feed`; it returns the events they complete."""

    def __init__(
        self, config: AmiConfig | None = None, clock: Callable[[], dt.datetime] = _now
    ) -> None:
        self.config = config or AmiConfig()
        self.clock = clock
        self.channels: dict[str, Channel] = {}
        self.calls: dict[str, Call] = {}
        self.operators = Operators(self.config)
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.gone: OrderedDict[str, None] = OrderedDict()  # hung-up channels: late events ignored
        self.unknown: dict[str, int] = {}  # event names we do not read, counted
        self._before: set[str] | None = None  # channels known when a listing began
        self._listed: set[str] = set()
        self._handlers: dict[str, Callable[[Message, dt.datetime], list[Event]]] = {
            "Newchannel": self._newchannel,
            "Newstate": self._newstate,
            "VarSet": self._varset,
            "DialBegin": self._dial_begin,
            "DialEnd": self._dial_end,
            "AgentCalled": self._agent_called,
            "AgentConnect": self._agent_connect,
            "AgentComplete": self._agent_complete,
            "QueueCallerJoin": self._queue_join,
            "QueueCallerLeave": self._noop,
            "QueueCallerAbandon": self._queue_abandon,
            "BridgeEnter": self._bridge_enter,
            "Hangup": self._hangup_event,
            "CoreShowChannel": self._listed_channel,
            "CoreShowChannelsComplete": self._listing_complete,
            "QueueMemberStatus": self.operators.member,
            "QueueMemberPause": self.operators.member,
            "QueueMemberAdded": self.operators.member,
            "QueueMember": self.operators.member,
            "QueueMemberRemoved": self.operators.removed,
        }
        for name in EXPECTED_NOISE:
            self._handlers.setdefault(name, self._noop)

    # -- entry points -------------------------------------------------------------

    def feed(self, message: Message) -> list[Event]:
        name = message.get("Event", "")
        handler = self._handlers.get(name)
        if handler is None:
            self.unknown[name] = self.unknown.get(name, 0) + 1
            return []
        at = timestamp(message.get("Timestamp")) or self.clock()
        if name != "Hangup" and any(key.startswith("ChanVariable.") for key in message):
            self._track(message)  # so the variables of a call's first event have a call to join
        self._absorb_variables(message)
        return [event for event in handler(message, at) if self._fresh(event.event_id)]

    def begin_listing(self) -> None:
        """A CoreShowChannels listing is about to arrive (after a (re)connect)."""
        self._before = set(self.channels)
        self._listed = set()

    def live_calls(self) -> list[str]:
        return sorted(self.calls)

    # -- bookkeeping --------------------------------------------------------------

    def _fresh(self, event_id: str) -> bool:
        if event_id in self.seen:
            return False
        _remember(self.seen, event_id)
        return True

    def _track(self, message: Message, prefix: str = "") -> Channel | None:
        """The channel a message describes (prefix "Dest" for the dialled side), kept current."""
        uid = message.get(f"{prefix}Uniqueid", "")
        linkedid = message.get(f"{prefix}Linkedid") or uid
        if not uid or uid in self.gone:
            return None  # a DialEnd or BridgeLeave may trail its channel's Hangup
        channel = self.channels.get(uid)
        if channel is None:
            if len(self.channels) >= CHANNEL_LIMIT:
                log.warning("AMI: %s live channels, ignoring new ones", CHANNEL_LIMIT)
                return None
            channel = self.channels[uid] = Channel(uid, linkedid)
            self._call(linkedid).channels.add(uid)
        for attr, key in FIELDS:
            if value := message.get(f"{prefix}{key}"):
                setattr(channel, attr, value)
        return channel

    def _call(self, linkedid: str) -> Call:
        call = self.calls.get(linkedid)
        if call is None:
            call = self.calls[linkedid] = Call(linkedid)
        return call

    def _absorb_variables(self, message: Message) -> None:
        prefix = self.config.ivr_prefix
        for key, value in message.items():
            base, _dot, name = key.partition(".")
            if base in ("ChanVariable", "DestChanVariable") and name.startswith(prefix):
                side = "Dest" if base == "DestChanVariable" else ""
                linkedid = message.get(f"{side}Linkedid") or message.get(f"{side}Uniqueid")
                if linkedid in self.calls and value:
                    self.calls[linkedid].ivr[self._ivr_key(name)] = value

    def _ivr_key(self, variable: str) -> str:
        return variable[len(self.config.ivr_prefix) :].lower() or variable.lower()

    def _event(self, call: Call, kind: Kind, key: str, at: dt.datetime, **fields: str) -> CallEvent:
        event_id = f"{call.linkedid}:{kind.value}" + (f":{key}" if key else "")
        return CallEvent(
            provider=PROVIDER,
            event_id=event_id,
            kind=kind,
            call_id=call.linkedid,
            at=at,
            direction=call.direction,
            caller=call.caller,
            callee=call.callee,
            queue=fields.pop("queue", call.queue),
            ivr=dict(call.ivr),
            **fields,
        )

    def _extension(self, value: str) -> str:
        return extension_of(value, self.config.extension_pattern)

    # -- call events --------------------------------------------------------------

    def _noop(self, message: Message, at: dt.datetime) -> list[Event]:
        return []

    def _newchannel(self, message: Message, at: dt.datetime) -> list[Event]:
        channel = self._track(message)
        if channel is None or channel.uniqueid != channel.linkedid:
            return []
        return self._started(self.calls[channel.linkedid], channel, at)

    def _started(self, call: Call, root: Channel, at: dt.datetime) -> list[Event]:
        """The call's first channel: who calls whom, and which way."""
        if not call.started:
            call.started = True
            call.callee = number(root.exten)
            call.operator = self._extension(root.name)
            # An operator's phone started it: dialling out, or click-to-call.
            call.direction = Direction.OUTBOUND if call.operator else Direction.INBOUND
            call.caller = call.operator or number(root.caller)
        extension = call.operator if call.direction == Direction.OUTBOUND else ""
        return [self._event(call, Kind.RINGING, "", at, extension=extension)]

    def _newstate(self, message: Message, at: dt.datetime) -> list[Event]:
        self._track(message)
        return []

    def _bridge_enter(self, message: Message, at: dt.datetime) -> list[Event]:
        if channel := self._track(message):
            channel.bridged = True
        return []

    def _varset(self, message: Message, at: dt.datetime) -> list[Event]:
        call = self.calls.get(message.get("Linkedid") or message.get("Uniqueid", ""))
        variable, value = message.get("Variable", ""), message.get("Value", "")
        if call is None:
            return []
        if variable.startswith(self.config.ivr_prefix) and value:
            call.ivr[self._ivr_key(variable)] = value
        elif variable == RECORDING_VARIABLE and value:
            call.recording = value
        return []

    def _dial_begin(self, message: Message, at: dt.datetime) -> list[Event]:
        self._track(message)
        dest = self._track(message, "Dest")
        call = self.calls.get(message.get("Linkedid") or "")
        if call is None or dest is None:
            return []
        operator = self._extension(dest.name)
        if call.direction == Direction.OUTBOUND and not operator:
            call.callee = number(message.get("Exten")) or call.callee or _dialled(message)
            return []
        if not operator or call.answered:
            return []
        return [self._event(call, Kind.RINGING, operator, at, extension=operator)]

    def _dial_end(self, message: Message, at: dt.datetime) -> list[Event]:
        dest = self._track(message, "Dest")
        call = self.calls.get(message.get("Linkedid") or "")
        if call is None or dest is None or message.get("DialStatus") != "ANSWER":
            return []
        if call.direction == Direction.OUTBOUND:  # the operator is the one who dialled
            return self._answered(call, call.operator, at)
        operator = self._extension(dest.name)
        if not operator:
            return []  # a forward to an outside number: the operator leg is not here
        return self._answered(call, operator, at)

    def _answered(self, call: Call, operator: str, at: dt.datetime) -> list[Event]:
        if call.answered:
            return []
        call.answered = True
        call.operator = operator or call.operator
        return [self._event(call, Kind.ANSWERED, "", at, extension=call.operator)]

    def _agent_called(self, message: Message, at: dt.datetime) -> list[Event]:
        self._track(message)
        self._track(message, "Dest")
        call = self.calls.get(message.get("Linkedid") or "")
        operator = self._extension(message.get("Interface", "")) or self._extension(
            message.get("DestChannel", "")
        )
        if call is None or not operator or call.answered:
            return []
        call.queue = message.get("Queue") or call.queue
        return [self._event(call, Kind.RINGING, operator, at, extension=operator)]

    def _agent_connect(self, message: Message, at: dt.datetime) -> list[Event]:
        self._track(message, "Dest")
        call = self.calls.get(message.get("Linkedid") or "")
        if call is None:
            return []
        call.queue = message.get("Queue") or call.queue
        operator = self._extension(message.get("Interface", "")) or self._extension(
            message.get("DestChannel", "")
        )
        return self._answered(call, operator, at)

    def _agent_complete(self, message: Message, at: dt.datetime) -> list[Event]:
        call = self.calls.get(message.get("Linkedid") or "")
        if call is not None:  # who hung up first: caller, agent or transfer
            call.reason = message.get("Reason", "") or call.reason
        return []

    def _queue_join(self, message: Message, at: dt.datetime) -> list[Event]:
        self._track(message)
        call = self.calls.get(message.get("Linkedid") or "")
        queue = message.get("Queue", "")
        if call is None or not queue:
            return []
        call.queue = queue
        return [self._event(call, Kind.QUEUED, queue, at)]

    def _queue_abandon(self, message: Message, at: dt.datetime) -> list[Event]:
        call = self.calls.get(message.get("Linkedid") or message.get("Uniqueid", ""))
        if call is None or call.answered:
            return []
        call.abandoned = True
        reason = (
            f"hold {seconds(message.get('HoldTime'))}s, position {message.get('Position', '?')}"
        )
        return [
            self._event(
                call,
                Kind.ABANDONED,
                "",
                at,
                queue=message.get("Queue") or call.queue,
                reason=reason,
            )
        ]

    def _hangup_event(self, message: Message, at: dt.datetime) -> list[Event]:
        uid = message.get("Uniqueid", "")
        linkedid = message.get("Linkedid") or uid
        events: list[Event] = []
        if uid not in self.channels:
            if uid != linkedid or (linkedid in self.calls and self.calls[linkedid].channels):
                return []  # an unseen helper leg; the call ends with its known channels
            # A call that began before we logged in and ended before the listing came:
            # the Hangup's own fields say who called, so it is not lost.
            if root := self._track(message):
                events += self._started(self.calls[linkedid], root, at)
        return events + self._hangup(uid, message.get("Cause-txt", ""), at)

    def _hangup(self, uid: str, cause: str, at: dt.datetime) -> list[Event]:
        channel = self.channels.pop(uid, None)
        if channel is None:
            return []
        _remember(self.gone, uid)
        call = self._call(channel.linkedid)
        call.channels.discard(uid)
        if uid == call.linkedid and not call.reason:
            call.reason = cause
        if call.channels:
            return []
        del self.calls[call.linkedid]
        if call.abandoned:
            return []  # ABANDONED was the call's last word
        ext = call.operator if call.answered or call.direction == Direction.OUTBOUND else ""
        events: list[Event] = [
            self._event(call, Kind.ENDED, "", at, extension=ext, reason=call.reason)
        ]
        if call.recording and self.config.recording_url:  # a file path alone opens nowhere
            url = self._url(call)
            events.append(
                self._event(call, Kind.RECORDING, "", at, extension=ext, recording_url=url)
            )
        return events

    def _url(self, call: Call) -> str:
        return self.config.recording_url.format(file=call.recording.rsplit("/", 1)[-1])

    # -- reconciling after a (re)connect ----------------------------------------------

    def _listed_channel(self, message: Message, at: dt.datetime) -> list[Event]:
        channel = self._track(message)
        if channel is not None:
            self._listed.add(channel.uniqueid)
            channel.application = message.get("Application", "")
            channel.app_data = message.get("ApplicationData", "")
            channel.bridged = bool(message.get("BridgeId"))
            channel.duration = seconds(message.get("Duration"))
        return []

    def _listing_complete(self, message: Message, at: dt.datetime) -> list[Event]:
        """Channels that vanished while we were away hang up; calls that appeared catch up."""
        before, listed = self._before or set(), self._listed
        self._before, self._listed = None, set()
        events: list[Event] = []
        for uid in sorted(before - listed):
            events += self._hangup(uid, "ended while the PBX link was down", at)
        linkedids = {self.channels[uid].linkedid for uid in listed if uid in self.channels}
        for linkedid in sorted(linkedids):
            events += self._catch_up(self.calls[linkedid], at)
        return events

    def _catch_up(self, call: Call, at: dt.datetime) -> list[Event]:
        """What the listing says a call went through, as the live events would have said it."""
        root = self.channels.get(call.linkedid)
        events: list[Event] = []
        if root is not None:
            events += self._started(call, root, at - dt.timedelta(seconds=root.duration))
            if root.application.lower() == "queue" and root.app_data:
                call.queue = root.app_data.split(",", 1)[0]
                events.append(self._event(call, Kind.QUEUED, call.queue, at))
        for uid in sorted(call.channels - {call.linkedid}):
            channel = self.channels[uid]
            operator = self._extension(channel.name)
            if channel.state == "Up" and call.direction == Direction.OUTBOUND:
                events += self._answered(call, call.operator, at)  # as DialEnd would say
            elif channel.state == "Up" and operator:
                events += self._answered(call, operator, at)
            elif channel.state == "Ringing" and operator and not call.answered:
                events.append(self._event(call, Kind.RINGING, operator, at, extension=operator))
        return events


def _dialled(message: Message) -> str:
    """The number in a DialString such as "trunk/79161234567" or "79161234567@trunk"."""
    text = message.get("DialString", "")
    return number(text.rsplit("/", 1)[-1].split("@", 1)[0])


def _remember(memory: OrderedDict[str, None], key: str) -> None:
    memory[key] = None
    if len(memory) > SEEN_LIMIT:
        memory.popitem(last=False)
