"""The correlator alone: recorded AMI streams in, normalized events out, no sockets."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kartoteka.callcenter.providers.asterisk.config import AmiConfig
from kartoteka.callcenter.providers.asterisk.correlate import Correlator
from kartoteka.callcenter.providers.base import (
    CallEvent,
    CallEventKind,
    Direction,
    OperatorEvent,
    OperatorState,
)
from tests.callcenter.asterisk.streams import events_of, messages, summary

K = CallEventKind
S = OperatorState


def calls(events):
    return [e for e in events if isinstance(e, CallEvent)]


def test_queue_call_from_ivr_to_operator_to_hangup():
    events = calls(events_of("queue_call"))
    assert summary(events) == [
        (K.RINGING, "", ""),
        (K.QUEUED, "", "support"),
        (K.RINGING, "101", "support"),
        (K.ANSWERED, "101", "support"),
        (K.ENDED, "101", "support"),
    ]
    ringing, queued, _offered, answered, ended = events
    assert {e.call_id for e in events} == {"1733443200.11"}
    assert ringing.caller == "79161234567" and ringing.callee == "74950000000"
    assert all(e.direction == Direction.INBOUND for e in events)
    # The IVR variables reach every event after the caller chose; QUEUE_PRIO is not IVR_*.
    assert ringing.ivr == {}
    assert queued.ivr == {"lang": "ru", "choice": "2"} == answered.ivr
    # Times come from the PBX's Timestamp field, not from when we read them.
    assert ringing.at == dt.datetime.fromtimestamp(1733443200, dt.UTC)
    assert answered.at == dt.datetime.fromtimestamp(1733443214.01, dt.UTC)  # DialEnd
    assert ended.reason == "caller"  # AgentComplete: the caller hung up first
    assert len({e.event_id for e in events}) == 5


def test_abandoned_call_is_final():
    events = calls(events_of("abandoned"))
    assert summary(events) == [
        (K.RINGING, "", ""),
        (K.QUEUED, "", "sales"),
        (K.RINGING, "102", "sales"),
        (K.ABANDONED, "", "sales"),
    ]
    assert events[-1].reason == "hold 29s, position 1"
    assert events[-1].caller == "74991112233"


def test_direct_call_to_an_extension_with_chanvariable():
    events = calls(events_of("direct_call"))
    assert summary(events) == [
        (K.RINGING, "", ""),
        (K.RINGING, "102", ""),
        (K.ANSWERED, "102", ""),
        (K.ENDED, "102", ""),
    ]
    # "ChanVariable: IVR_SOURCE=ad-2026" on the very first event of the call.
    assert events[0].ivr == {"source": "ad-2026"}
    assert events[-1].reason == "Normal Clearing"


def test_click_to_call_is_outbound():
    events = calls(events_of("originate"))
    assert summary(events) == [
        (K.RINGING, "101", ""),
        (K.ANSWERED, "101", ""),
        (K.ENDED, "101", ""),
    ]  # no RECORDING: without ami_recording_url a file path on the PBX opens nowhere
    assert all(e.direction == Direction.OUTBOUND for e in events)
    assert events[0].caller == "101" and events[0].callee == ""  # Exten "s" until it dials
    assert events[1].callee == "79161234567"


def test_recording_url_template():
    config = AmiConfig.from_mapping({"ami_recording_url": "https://pbx.example/rec/{file}"})
    events = events_of("originate", Correlator(config))
    assert summary(events)[-2:] == [(K.ENDED, "101", ""), (K.RECORDING, "101", "")]
    assert events[-1].recording_url == (
        "https://pbx.example/rec/out-79161234567-101-1733443500.41.wav"
    )


def test_operator_pause_and_presence_without_device_chatter():
    events = events_of("member_pause")
    assert all(isinstance(e, OperatorEvent) for e in events)
    assert [(e.state, e.reason) for e in events] == [
        (S.AVAILABLE, ""),
        (S.PAUSED, "lunch"),
        (S.AVAILABLE, ""),
        (S.OFFLINE, ""),  # Status 5: the phone is unavailable
        (S.AVAILABLE, ""),
        (S.OFFLINE, ""),  # removed from the queue
    ]
    assert {(e.extension, e.queue) for e in events} == {("101", "support")}
    assert len({e.event_id for e in events}) == len(events)


def test_replaying_a_stream_emits_nothing_twice():
    correlator = Correlator()
    first = events_of("queue_call", correlator)
    assert events_of("queue_call", correlator) == []
    # A fresh process (new correlator) derives the very same ids: the sink drops them.
    assert [e.event_id for e in events_of("queue_call")] == [e.event_id for e in first]


def test_event_ids_are_derived_from_linkedid_and_kind():
    for event in calls(events_of("queue_call")):
        assert re.fullmatch(r"1733443200\.11:[a-z]+(:[\w]+)?", event.event_id), event.event_id


def test_unknown_events_are_counted_and_ignored():
    correlator = Correlator()
    assert correlator.feed({"Event": "PeerStatus", "Peer": "PJSIP/101"}) == []
    assert correlator.feed({"Event": "AgentRingNoAnswer"}) == []
    assert correlator.feed({"Event": "SomethingFromAsterisk30"}) == []
    assert correlator.feed({"Response": "Success"}) == []
    # Everyday noise is not "unknown"; what is counted shows in `listen --json`.
    assert correlator.unknown == {"SomethingFromAsterisk30": 1, "": 1}


def test_events_trailing_a_hangup_do_not_revive_the_channel():
    correlator = Correlator()
    stream = messages("abandoned")
    for message in stream:
        correlator.feed(message)
    assert correlator.calls == {} and correlator.channels == {}
    dial_end = next(m for m in stream if m.get("Event") == "DialEnd")
    assert correlator.feed(dial_end) == []
    assert correlator.calls == {} and correlator.channels == {}


def test_events_missing_fields_do_not_break_it():
    correlator = Correlator()
    for name in [
        "Newchannel",
        "Newstate",
        "VarSet",
        "DialBegin",
        "DialEnd",
        "AgentCalled",
        "AgentConnect",
        "AgentComplete",
        "QueueCallerJoin",
        "QueueCallerLeave",
        "QueueCallerAbandon",
        "Hangup",
        "QueueMemberStatus",
        "QueueMemberPause",
        "QueueMemberRemoved",
        "CoreShowChannel",
        "CoreShowChannelsComplete",
    ]:
        assert correlator.feed({"Event": name}) == [], name
        assert correlator.feed({"Event": name, "Uniqueid": "x", "Timestamp": "soon"}) is not None


def test_hangup_of_a_channel_never_seen_ends_its_call_when_it_is_the_root():
    correlator = Correlator()
    events = correlator.feed(
        {
            "Event": "Hangup",
            "Channel": "PJSIP/trunk-00000099",
            "CallerIDNum": "74951112233",
            "Uniqueid": "9.1",
            "Linkedid": "9.1",
            "Cause-txt": "Busy",
        }
    )
    assert events[0].caller == "74951112233"  # a missed call, not a call from nobody
    assert [(e.kind, e.call_id, e.reason) for e in events] == [
        (K.RINGING, "9.1", ""),
        (K.ENDED, "9.1", "Busy"),
    ]
    # A helper leg we never saw says nothing about its call.
    assert correlator.feed({"Event": "Hangup", "Uniqueid": "9.3", "Linkedid": "9.2"}) == []


def test_listing_after_reconnect_catches_up_and_ends_vanished_calls():
    now = dt.datetime(2026, 12, 5, 23, 0, tzinfo=dt.UTC)
    correlator = Correlator(clock=lambda: now)
    seen = []
    for message in messages("reconnect_first"):
        seen += correlator.feed(message)
    assert summary(seen) == [
        (K.RINGING, "", ""),
        (K.QUEUED, "", "support"),
        (K.RINGING, "101", "support"),  # AgentCalled; its DialBegin twin is the same event
        (K.RINGING, "", ""),  # the direct call
        (K.RINGING, "102", ""),
    ]
    correlator.begin_listing()
    caught = []
    for message in messages("reconnect_listing", banner=False):
        caught += correlator.feed(message)
    assert {(e.call_id, e.kind, e.extension, e.queue) for e in caught} == {
        ("1733443200.11", K.ANSWERED, "101", "support"),  # answered while we were away
        ("1733443400.31", K.ENDED, "", ""),  # the direct call ended while we were away
        ("1733443225.51", K.RINGING, "", ""),  # a call that came in meanwhile
        ("1733443225.51", K.QUEUED, "", "support"),
    }
    assert len(caught) == 4
    new = next(e for e in caught if e.call_id == "1733443225.51")
    assert new.caller == "74997776655" and new.callee == "74950000000"
    assert new.at == now - dt.timedelta(seconds=6)  # the listing's Duration: 00:00:06
    assert correlator.live_calls() == ["1733443200.11", "1733443225.51"]
    # The same listing again (a second reconnect) changes nothing.
    correlator.begin_listing()
    for message in messages("reconnect_listing", banner=False):
        assert correlator.feed(message) == []


def test_a_restarted_listener_repeats_only_ids_the_sink_already_has():
    """A new process (fresh correlator) learns a call from the listing: same ids as live."""
    live = Correlator()
    live_ids = {e.event_id for e in events_of("queue_call", live)}
    fresh = Correlator()
    fresh.begin_listing()
    caught = []
    for message in messages("reconnect_listing", banner=False):
        caught += fresh.feed(message)
    queue_call = [e for e in caught if e.call_id == "1733443200.11"]
    assert [e.kind for e in queue_call] == [K.RINGING, K.QUEUED, K.ANSWERED]
    assert {e.event_id for e in queue_call} <= live_ids


KNOWN = [
    "Newchannel",
    "Newstate",
    "VarSet",
    "DialBegin",
    "DialEnd",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "BridgeEnter",
    "Hangup",
    "CoreShowChannel",
    "CoreShowChannelsComplete",
    "QueueMemberStatus",
    "QueueMemberPause",
    "QueueMemberRemoved",
]
IDS = st.sampled_from(["1.1", "1.2", "1.3", "2.1", "2.2", ""])
FIELD_VALUES = {
    "Uniqueid": IDS,
    "Linkedid": IDS,
    "DestUniqueid": IDS,
    "DestLinkedid": IDS,
    "Channel": st.sampled_from(["PJSIP/101-00000001", "PJSIP/trunk-00000002", "Local/102@q;1", ""]),
    "DestChannel": st.sampled_from(["PJSIP/102-00000003", "PJSIP/trunk-00000004", "x"]),
    "Interface": st.sampled_from(["PJSIP/101", "Local/102@from-queue/n", "garbage"]),
    "Queue": st.sampled_from(["support", "sales", ""]),
    "DialStatus": st.sampled_from(["ANSWER", "BUSY", "CANCEL"]),
    "ChannelStateDesc": st.sampled_from(["Up", "Ringing", "Down"]),
    "Paused": st.sampled_from(["0", "1", "x"]),
    "Status": st.sampled_from(["1", "2", "5", ""]),
    "Variable": st.sampled_from(["IVR_LANG", "MIXMONITOR_FILENAME", "OTHER"]),
    "Value": st.text(max_size=5),
    "Timestamp": st.sampled_from(["1733443200.5", "nan", "-1e300", "", "1e30"]),
    "Duration": st.sampled_from(["00:00:07", "12", "x:y", ""]),
    "Application": st.sampled_from(["Queue", "Dial", ""]),
    "ApplicationData": st.sampled_from(["support,t", "", ","]),
    "Exten": st.sampled_from(["s", "79161234567", ""]),
    "CallerIDNum": st.sampled_from(["<unknown>", "79161234567", ""]),
}
AMI_MESSAGE = st.builds(
    lambda name, fields: {"Event": name, **fields},
    st.sampled_from(KNOWN),
    st.fixed_dictionaries({}, optional=FIELD_VALUES),
)


@settings(max_examples=300, deadline=None)
@given(stream=st.lists(AMI_MESSAGE, max_size=40), listing_at=st.integers(0, 40))
def test_any_sequence_of_events_is_survived_without_repeats(stream, listing_at):
    correlator = Correlator()
    out = []
    for index, message in enumerate(stream):
        if index == listing_at:
            correlator.begin_listing()
        out += correlator.feed(message)
    ids = [e.event_id for e in out]
    assert len(ids) == len(set(ids))
    for event in out:
        assert event.at.tzinfo is not None
        if isinstance(event, CallEvent):
            assert event.call_id and event.event_id.startswith(event.call_id + ":")


def test_a_pause_for_the_reason_offline_is_offline():
    correlator = Correlator()
    pause = {
        "Event": "QueueMemberPause",
        "Queue": "support",
        "Interface": "PJSIP/101",
        "Paused": "1",
        "PausedReason": "offline",
        "Status": "1",
    }
    assert [(e.state, e.reason) for e in correlator.feed(pause)] == [(S.OFFLINE, "")]


def test_an_internal_call_stays_with_the_operator_who_dialled():
    correlator = Correlator()
    root = {"Uniqueid": "5.1", "Linkedid": "5.1", "Channel": "PJSIP/101-00000001", "Exten": "102"}
    dest = {"DestUniqueid": "5.2", "DestLinkedid": "5.1", "DestChannel": "PJSIP/102-00000002"}
    out = correlator.feed({"Event": "Newchannel", **root})
    out += correlator.feed({"Event": "DialBegin", **root, **dest})
    out += correlator.feed({"Event": "DialEnd", **root, **dest, "DialStatus": "ANSWER"})
    assert [(e.kind, e.extension, e.direction, e.callee) for e in out] == [
        (K.RINGING, "101", Direction.OUTBOUND, "102"),
        (K.RINGING, "102", Direction.OUTBOUND, "102"),  # the colleague's phone rings
        (K.ANSWERED, "101", Direction.OUTBOUND, "102"),
    ]


def test_a_click_to_call_in_progress_is_caught_up_with_the_live_ids():
    live_ids = {e.event_id for e in events_of("originate")}
    lid = "1733443500.41"
    listing = [
        {
            "Event": "CoreShowChannel",
            "Channel": "PJSIP/101-00000029",
            "ChannelStateDesc": "Up",
            "CallerIDNum": "101",
            "Exten": "79161234567",
            "Uniqueid": lid,
            "Linkedid": lid,
            "Application": "Dial",
            "ApplicationData": "PJSIP/79161234567@trunk,60",
            "Duration": "00:00:40",
            "BridgeId": "b1",
        },
        {
            "Event": "CoreShowChannel",
            "Channel": "PJSIP/trunk-0000002a",
            "ChannelStateDesc": "Up",
            "CallerIDNum": "79161234567",
            "Uniqueid": "1733443503.42",
            "Linkedid": lid,
            "Application": "AppDial",
            "Duration": "00:00:37",
            "BridgeId": "b1",
        },
        {"Event": "CoreShowChannelsComplete", "ListItems": "2"},
    ]
    fresh = Correlator()
    fresh.begin_listing()
    caught = [e for m in listing for e in fresh.feed(m)]
    assert [(e.kind, e.extension, e.direction, e.callee) for e in caught] == [
        (K.RINGING, "101", Direction.OUTBOUND, "79161234567"),
        (K.ANSWERED, "101", Direction.OUTBOUND, "79161234567"),
    ]
    assert {e.event_id for e in caught} <= live_ids
