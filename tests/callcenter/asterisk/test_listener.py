"""The event reader against recorded streams played by a real TCP server on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartoteka.callcenter.providers.asterisk.config import AmiConfig
from kartoteka.callcenter.providers.asterisk.correlate import Correlator
from kartoteka.callcenter.providers.asterisk.listener import Listener
from kartoteka.callcenter.providers.asterisk.protocol import AmiConnection
from kartoteka.callcenter.providers.base import CallEventKind, ProviderError
from tests.callcenter.asterisk.replay import ReplayServer, Session
from tests.callcenter.asterisk.streams import events_of, raw, summary

K = CallEventKind


def listen(server: ReplayServer, attempts: int, **config) -> tuple[list, Listener]:
    """Run the listener for `attempts` connections with a list as the sink."""
    sink: list = []
    listener = Listener(
        AmiConfig.from_mapping(server.config(**config)),
        sink.append,
        threaded_sink=False,
        backoff=(0.01, 0.02),
    )
    asyncio.run(asyncio.wait_for(listener.run(attempts=attempts), 20))
    return sink, listener


@pytest.mark.parametrize("name", ["queue_call", "abandoned", "direct_call", "originate"])
def test_recorded_stream_over_tcp_gives_what_the_correlator_gives(name):
    with ReplayServer(Session(raw(name), drop=True)) as server:
        sink, listener = listen(server, attempts=1)
    assert sink == events_of(name)
    assert server.actions()[:1] == ["Login"]
    login = server.received[0]
    assert (login["Username"], login["Secret"], login["Events"]) == ("kartoteka", "s3cret", "on")
    assert listener.status.connects == 1 and listener.status.garbage_lines == 0


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=st.lists(st.integers(0, 20_000), min_size=1, max_size=30))
def test_frames_split_across_tcp_packets_anywhere(cuts):
    with ReplayServer(Session(raw("queue_call"), cuts=cuts, drop=True)) as server:
        sink, _listener = listen(server, attempts=1)
    assert sink == events_of("queue_call")


def test_every_byte_in_its_own_packet():
    data = raw("direct_call")
    with ReplayServer(Session(data, cuts=range(len(data)), drop=True)) as server:
        sink, _listener = listen(server, attempts=1)
    assert sink == events_of("direct_call")


def test_login_refused():
    with ReplayServer(Session(raw("login_refused"))) as server:
        sink, listener = listen(server, attempts=1, ami_secret="wrong")
    assert sink == []
    assert listener.status.connects == 0 and listener.status.failures == 1
    assert "Authentication failed" in listener.status.last_error
    assert server.actions() == ["Login"]


def test_garbage_lines_and_unknown_events_are_skipped():
    stream = raw("direct_call").replace(
        b"Event: Newstate\r\n",
        b"%%% line noise %%%\r\nEvent: Newstate\r\n\x00\x01garbage without colon\r\n",
        1,
    )
    stream = stream.replace(
        b"Event: FullyBooted",
        b"Event: SuperNewEvent2030\r\nFoo: bar\r\n\r\nEvent: FullyBooted",
    )
    with ReplayServer(Session(stream, drop=True)) as server:
        sink, listener = listen(server, attempts=1)
    assert sink == events_of("direct_call")
    assert listener.status.garbage_lines == 2
    assert listener.status.unknown_events == {"SuperNewEvent2030": 1}


def test_stream_cut_mid_message_keeps_what_was_whole():
    with ReplayServer(Session(raw("reconnect_first"), drop=True)) as server:
        sink, listener = listen(server, attempts=1)
    assert summary(sink) == [
        (K.RINGING, "", ""),
        (K.QUEUED, "", "support"),
        (K.RINGING, "101", "support"),
        (K.RINGING, "", ""),
        (K.RINGING, "102", ""),
    ]
    assert listener.status.cut_messages == 1


def test_reconnect_picks_up_calls_in_progress_without_doubles():
    first = Session(raw("reconnect_first"), drop=True)
    second = Session(
        raw("reconnect_second"),
        replies={"CoreShowChannels": raw("reconnect_listing")},
        stream_after="CoreShowChannels",
        drop=True,
    )
    with ReplayServer(first, second) as server:
        sink, listener = listen(server, attempts=2)
    assert listener.status.connects == 2
    ids = [e.event_id for e in sink]
    assert len(ids) == len(set(ids)), "an event was emitted twice"
    per_call: dict[str, list] = {}
    for event in sink:
        per_call.setdefault(event.call_id, []).append((event.kind, event.extension))
    assert per_call == {
        # answered while the link was down, ended after it came back
        "1733443200.11": [
            (K.RINGING, ""),
            (K.QUEUED, ""),
            (K.RINGING, "101"),
            (K.ANSWERED, "101"),
            (K.ENDED, "101"),
        ],
        # ended while the link was down: ended once, on the listing
        "1733443400.31": [(K.RINGING, ""), (K.RINGING, "102"), (K.ENDED, "")],
        # started while the link was down: picked up from the listing
        "1733443225.51": [(K.RINGING, ""), (K.QUEUED, "")],
    }
    ended = next(e for e in sink if e.call_id == "1733443200.11" and e.kind == K.ENDED)
    assert ended.reason == "agent" and ended.ivr == {"lang": "ru"}
    assert server.actions().count("Login") == 2
    # The first link may hang up before the server reads its listing request; the second link
    # streams only after it (stream_after), and the call picked up above came from that listing.
    assert 1 <= server.actions().count("CoreShowChannels") <= 2


def test_unreachable_pbx_is_retried_then_reported():
    with ReplayServer() as server:  # accepts and closes at once: no banner
        sink, listener = listen(server, attempts=3)
    assert sink == [] and listener.status.failures == 3
    assert server.connections == 3


def test_closed_port_is_a_provider_error():
    server = ReplayServer()
    port = server.port
    server.close()

    async def connect():
        await AmiConnection.open("127.0.0.1", port, 1.0)

    with pytest.raises(ProviderError, match="Cannot reach the PBX"):
        asyncio.run(connect())


def test_a_server_that_is_not_asterisk():
    with ReplayServer(Session(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")) as server:
        sink, listener = listen(server, attempts=1)
    assert sink == [] and "did not greet" in listener.status.last_error


def test_stop_ends_a_live_session():
    async def scenario(server):
        sink: list = []
        listener = Listener(
            AmiConfig.from_mapping(server.config()), sink.append, threaded_sink=False
        )
        stop = asyncio.Event()
        task = asyncio.create_task(listener.run(stop))
        while len(sink) < 4:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)
        return sink, listener

    with ReplayServer(Session(raw("direct_call"))) as server:  # stays open after streaming
        sink, listener = asyncio.run(asyncio.wait_for(scenario(server), 20))
    assert summary(sink)[-1] == (K.ENDED, "102", "")
    assert listener.status.connects == 1 and listener.status.failures == 0


def test_a_failing_sink_does_not_stop_the_feed():
    def sink(event):
        if event.kind == K.ANSWERED:
            raise RuntimeError("database is down")
        got.append(event)

    got: list = []
    with ReplayServer(Session(raw("direct_call"), drop=True)) as server:
        listener = Listener(
            AmiConfig.from_mapping(server.config()), sink, backoff=(0.01, 0.01)
        )  # the product way: the sink runs in a worker thread
        asyncio.run(listener.run(attempts=1))
    assert [e.kind for e in got] == [K.RINGING, K.RINGING, K.ENDED]
    assert listener.status.sink_errors == 1 and listener.status.events == 3


def test_a_silent_pbx_is_noticed_by_ping_and_left():
    # The server keeps the socket open but never answers Ping: a PBX that froze.
    session = Session(raw("direct_call"), silent={"Ping"})
    with ReplayServer(session) as server:
        sink, listener = listen(server, attempts=1, ami_ping=0.2, ami_timeout=0.3)
    assert sink == events_of("direct_call")
    assert "Ping" in server.actions()
    assert listener.status.failures == 1 and "did not answer Ping" in listener.status.last_error


def test_an_answered_ping_keeps_the_session():
    async def scenario(server):
        listener = Listener(
            AmiConfig.from_mapping(server.config(ami_ping=0.05)), [].append, threaded_sink=False
        )
        stop = asyncio.Event()
        task = asyncio.create_task(listener.run(stop))
        while server.actions().count("Ping") < 3:
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(task, 5)
        return listener

    with ReplayServer(Session(raw("direct_call"))) as server:
        listener = asyncio.run(asyncio.wait_for(scenario(server), 20))
    assert listener.status.connects == 1 and listener.status.failures == 0


def test_the_pause_between_attempts_grows_and_is_capped():
    class Recording(Listener):
        pauses: list[float] = []

        async def pause(self, stop, seconds):
            self.pauses.append(seconds)

    sessions = [Session(raw("login_refused")) for _ in range(6)]
    with ReplayServer(*sessions) as server:
        listener = Recording(AmiConfig.from_mapping(server.config()), [].append, backoff=(1.0, 8.0))
        asyncio.run(listener.run(attempts=6))
    assert listener.pauses == [1.0, 2.0, 4.0, 8.0, 8.0]  # none after the last attempt
    assert listener.status.failures == 6


def test_a_message_the_correlator_chokes_on_is_skipped():
    class Fragile(Correlator):
        def feed(self, message):
            if message.get("Event") == "DialBegin":
                raise KeyError("a bug")
            return super().feed(message)

    with ReplayServer(Session(raw("direct_call"), drop=True)) as server:
        sink: list = []
        listener = Listener(
            AmiConfig.from_mapping(server.config()),
            sink.append,
            correlator=Fragile(),
            threaded_sink=False,
        )
        asyncio.run(listener.run(attempts=1))
    assert [e.kind for e in sink] == [K.RINGING, K.ANSWERED, K.ENDED]
    assert listener.status.bad_messages == 1


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(0, 10_000))
def test_the_link_may_drop_anywhere_no_call_is_doubled_or_left_open(cut):
    first_stream = raw("reconnect_first")
    head = len(first_stream.split(b"Event: FullyBooted")[0])  # banner and login stay whole
    first = Session(first_stream[: head + cut % (len(first_stream) - head + 1)], drop=True)
    second = Session(
        raw("reconnect_second"),
        replies={"CoreShowChannels": raw("reconnect_listing")},
        stream_after="CoreShowChannels",
        drop=True,
    )
    with ReplayServer(first, second) as server:
        sink, listener = listen(server, attempts=2)
    assert listener.status.connects == 2
    ids = [e.event_id for e in sink]
    assert len(ids) == len(set(ids))
    kinds: dict[str, list] = {}
    for event in sink:
        kinds.setdefault(event.call_id, []).append(event.kind)
    # The queue call is always answered and ended, once each, whenever the drop came.
    queue_call = kinds["1733443200.11"]
    assert queue_call[0] == K.RINGING and queue_call[-2:] == [K.ANSWERED, K.ENDED]
    assert queue_call.count(K.QUEUED) == 1
    # The call that came in while the link was down is picked up from the listing.
    assert kinds["1733443225.51"] == [K.RINGING, K.QUEUED]
    # The direct call is either unseen (it all happened while the link was down) or closed.
    direct = kinds.get("1733443400.31", [])
    assert direct == [] or (direct[0] == K.RINGING and direct[-1] == K.ENDED)
