"""The AMI framing alone: bytes in any pieces → the same messages."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kartoteka.callcenter.providers.asterisk.protocol import MAX_LINE, Framer, encode
from kartoteka.callcenter.providers.base import ProviderError
from tests.callcenter.asterisk.streams import messages, raw

NAMES = ["queue_call", "abandoned", "direct_call", "originate", "member_pause"]


def test_banner_then_messages():
    framer = Framer()
    out = framer.feed(raw("queue_call"))
    assert framer.banner == "Asterisk Call Manager/5.0.1"
    assert out[0] == {
        "Response": "Success",
        "ActionID": "1",
        "Message": "Authentication accepted",
    }
    assert out[1]["Event"] == "FullyBooted"
    newchannel = out[2]
    assert newchannel["Channel"] == "PJSIP/trunk-0000000b"
    assert newchannel["AccountCode"] == ""  # "AccountCode: " — an empty value, not garbage
    assert not framer.pending() and framer.garbage == 0


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(NAMES), cuts=st.lists(st.integers(0, 10_000), max_size=40))
def test_any_split_gives_the_same_messages(name, cuts):
    data = raw(name)
    framer = Framer()
    out = []
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    for start, end in itertools.pairwise(bounds):
        out += framer.feed(data[start:end])
    assert out == messages(name)


def test_bare_lf_line_ends_are_accepted():
    data = raw("direct_call").replace(b"\r\n", b"\n")
    assert Framer().feed(data) == messages("direct_call")


def test_garbage_lines_are_skipped_and_counted():
    framer = Framer(expect_banner=False)
    out = framer.feed(
        b"Event: Newstate\r\nthis is not a header\r\nUniqueid: 1.2\r\n \x00\xff\r\n"
        b"Bad Key: x\r\n:novalue\r\n\r\n\r\n\r\nEvent: Hangup\r\nUniqueid: 1.2\r\n\r\n"
    )
    assert out == [{"Event": "Newstate", "Uniqueid": "1.2"}, {"Event": "Hangup", "Uniqueid": "1.2"}]
    assert framer.garbage == 4


def test_a_message_cut_mid_way_stays_pending():
    framer = Framer(expect_banner=False)
    assert framer.feed(b"Event: Hangup\r\nUniqueid: 1.2\r\nCause-t") == []
    assert framer.pending()
    assert framer.feed(b"xt: Normal Clearing\r\n\r\n") == [
        {"Event": "Hangup", "Uniqueid": "1.2", "Cause-txt": "Normal Clearing"}
    ]
    assert not framer.pending()


def test_oversized_line_drops_its_message_only():
    framer = Framer(expect_banner=False)
    huge = b"Event: X\r\nData: " + b"a" * (MAX_LINE + 10)
    out = framer.feed(huge)
    out += framer.feed(b"\r\n\r\nEvent: Hangup\r\nUniqueid: 1\r\n\r\n")
    assert out == [{"Event": "Hangup", "Uniqueid": "1"}]
    assert framer.dropped == 1


def test_channel_variables_keep_every_line():
    framer = Framer(expect_banner=False)
    out = framer.feed(
        b"Event: Newchannel\r\nChanVariable: IVR_LANG=ru\r\nChanVariable: IVR_CHOICE=2\r\n"
        b"ChanVariable(PJSIP/101-00000001): IVR_OLD=a=b\r\nDestChanVariable: IVR_X=1\r\n\r\n"
    )
    assert out == [
        {
            "Event": "Newchannel",
            "ChanVariable.IVR_LANG": "ru",
            "ChanVariable.IVR_CHOICE": "2",
            "ChanVariable.IVR_OLD": "a=b",
            "DestChanVariable.IVR_X": "1",
        }
    ]


def test_non_utf8_bytes_are_replaced_not_fatal():
    out = Framer(expect_banner=False).feed(
        b"Event: Newchannel\r\nCallerIDName: \xc8\xe2\xe0\xed\r\n\r\n"
    )
    assert out[0]["CallerIDName"] == "\ufffd" * 4


def test_encode_refuses_header_injection():
    assert encode({"Action": "Ping", "ActionID": "1"}) == b"Action: Ping\r\nActionID: 1\r\n\r\n"
    for bad in ["101\r\nAction: Command", "x\ny", "x\r"]:
        with pytest.raises(ProviderError):
            encode({"Action": "Originate", "Exten": bad})


def test_an_endless_line_after_a_good_message_is_bounded():
    framer = Framer(expect_banner=False)
    out = framer.feed(b"Event: Hangup\r\nUniqueid: 1\r\n\r\nEvent: X\r\nData: " + b"b" * MAX_LINE)
    assert out == [{"Event": "Hangup", "Uniqueid": "1"}]
    assert len(framer.buffer) == 0
    out = framer.feed(b"bbb\r\n\r\nEvent: Newstate\r\nUniqueid: 2\r\n\r\n")
    assert out == [{"Event": "Newstate", "Uniqueid": "2"}] and framer.dropped == 1
