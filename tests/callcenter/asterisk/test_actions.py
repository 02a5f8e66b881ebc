"""Actions towards the PBX: Originate and queue membership, against the replay server."""

from __future__ import annotations

import asyncio
import time

import pytest

from kartoteka.callcenter.providers import load
from kartoteka.callcenter.providers.asterisk.provider import AsteriskProvider, run_sync
from kartoteka.callcenter.providers.base import OperatorState, ProviderError
from tests.callcenter.asterisk.replay import ReplayServer, Session
from tests.callcenter.asterisk.streams import raw

OK = raw("direct_call").split(b"Event:")[0]  # banner + "Authentication accepted" only


def sent(server: ReplayServer, action: str) -> list[dict[str, str]]:
    return [m for m in server.received if m.get("Action") == action]


def test_the_registry_finds_the_provider():
    assert load("asterisk") is AsteriskProvider


def test_originate_rings_the_operator_then_dials_the_number():
    with ReplayServer(Session(OK)) as server:
        AsteriskProvider(server.config(ami_context="crm-out")).originate(
            "101", "+7 (916) 123-45-67"
        )
    assert server.actions() == ["Login", "Originate", "Logoff"]
    login = server.received[0]
    assert login["Events"] == "off"  # an action session wants no event flood
    originate = sent(server, "Originate")[0]
    assert originate["Channel"] == "PJSIP/101"
    assert originate["Context"] == "crm-out"
    assert originate["Exten"] == "+79161234567"
    assert originate["Priority"] == "1" and originate["Async"] == "true"
    assert originate["ActionID"] and originate["ActionID"] != login["ActionID"]


def test_originate_channel_template():
    with ReplayServer(Session(OK)) as server:
        provider = AsteriskProvider(server.config(ami_channel="SIP/{extension}"))
        provider.originate("2001", "84951234567")
    assert sent(server, "Originate")[0]["Channel"] == "SIP/2001"


def test_error_response_becomes_provider_error_with_the_servers_message():
    session = Session(OK, errors={"Originate": "Originate failed"})
    with ReplayServer(session) as server, pytest.raises(ProviderError, match="Originate failed"):
        AsteriskProvider(server.config()).originate("101", "79161234567")
    assert server.actions()[-1] == "Logoff"  # the session is closed politely anyway


def test_no_response_is_a_timeout():
    session = Session(OK, silent={"Originate"})
    started = time.monotonic()
    with ReplayServer(session) as server, pytest.raises(ProviderError, match="in time"):
        AsteriskProvider(server.config(ami_timeout=0.3)).originate("101", "79161234567")
    assert time.monotonic() - started < 3


def test_refused_login_for_an_action():
    session = Session(raw("login_refused"))
    with ReplayServer(session) as server, pytest.raises(ProviderError, match="Authentication"):
        AsteriskProvider(server.config()).originate("101", "79161234567")
    assert server.actions() == ["Login"]


def test_unreachable_pbx_for_an_action():
    server = ReplayServer()
    config = server.config(ami_timeout=1)
    server.close()
    with pytest.raises(ProviderError, match="Cannot reach"):
        AsteriskProvider(config).originate("101", "79161234567")


@pytest.mark.parametrize(
    "extension, number",
    [
        ("101", "79161234567\r\nAction: Command"),
        ("101", "call me"),
        ("101", ""),
        ("101\r\nAction: Command", "79161234567"),
        ("../../x", "79161234567"),
        ("trunk", "79161234567"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(extension, number):
    with ReplayServer(Session(OK)) as server, pytest.raises(ProviderError):
        AsteriskProvider(server.config()).originate(extension, number)
    assert server.received == []


def test_available_joins_the_configured_queues_and_unpauses():
    with ReplayServer(Session(OK)) as server:
        provider = AsteriskProvider(server.config(ami_queues="support, sales"))
        provider.set_state("101", OperatorState.AVAILABLE)
    assert server.actions() == ["Login", "QueueAdd", "QueueAdd", "QueuePause", "Logoff"]
    adds = sent(server, "QueueAdd")
    assert [(a["Queue"], a["Interface"], a["Paused"]) for a in adds] == [
        ("support", "PJSIP/101", "false"),
        ("sales", "PJSIP/101", "false"),
    ]
    pause = sent(server, "QueuePause")[0]
    assert pause["Paused"] == "false" and "Queue" not in pause  # every queue at once


def test_already_a_member_is_not_an_error():
    session = Session(OK, errors={"QueueAdd": "Unable to add interface: Already there"})
    with ReplayServer(session) as server:
        AsteriskProvider(server.config()).set_state("101", OperatorState.AVAILABLE, "support")
    assert server.actions() == ["Login", "QueueAdd", "QueuePause", "Logoff"]
    assert sent(server, "QueuePause")[0]["Queue"] == "support"


def test_pause_with_reason_in_one_queue():
    with ReplayServer(Session(OK)) as server:
        provider = AsteriskProvider(server.config())
        provider.set_state("101", OperatorState.PAUSED, "support", "lunch")
    add, pause = sent(server, "QueueAdd")[0], sent(server, "QueuePause")[0]
    assert add["Paused"] == "true"
    assert (pause["Queue"], pause["Paused"], pause["Reason"]) == ("support", "true", "lunch")


def test_pause_everywhere_when_no_queue_is_known():
    with ReplayServer(Session(OK)) as server:
        AsteriskProvider(server.config()).set_state("101", OperatorState.PAUSED, reason="break")
    assert server.actions() == ["Login", "QueuePause", "Logoff"]


def test_offline_leaves_the_queues_and_not_there_is_fine():
    session = Session(OK, errors={"QueueRemove": "Unable to remove interface: Not there"})
    with ReplayServer(session) as server:
        provider = AsteriskProvider(server.config(ami_queues=["support", "sales"]))
        provider.set_state("101", OperatorState.OFFLINE)
    assert [(a["Queue"], a["Interface"]) for a in sent(server, "QueueRemove")] == [
        ("support", "PJSIP/101"),
        ("sales", "PJSIP/101"),
    ]


def test_unknown_queue_is_an_error():
    session = Session(OK, errors={"QueueAdd": "Unable to add interface to queue: No such queue"})
    with ReplayServer(session) as server, pytest.raises(ProviderError, match="No such queue"):
        AsteriskProvider(server.config()).set_state("101", OperatorState.AVAILABLE, "nope")


@pytest.mark.parametrize(
    "state, reason, expected",
    [
        (OperatorState.AVAILABLE, "", {"Paused": "false"}),
        (OperatorState.PAUSED, "lunch", {"Paused": "true", "Reason": "lunch"}),
        (OperatorState.OFFLINE, "", {"Paused": "true", "Reason": "offline"}),
    ],
)
def test_without_queues_static_members_are_only_paused_and_unpaused(state, reason, expected):
    with ReplayServer(Session(OK)) as server:
        AsteriskProvider(server.config()).set_state("101", state, reason=reason)
    assert server.actions() == ["Login", "QueuePause", "Logoff"]
    pause = sent(server, "QueuePause")[0]
    assert {k: v for k, v in pause.items() if k in ("Paused", "Reason", "Queue")} == expected
    assert pause["Interface"] == "PJSIP/101"


def test_actions_work_from_inside_a_running_event_loop():
    async def from_async_code(config):
        run_sync(asyncio.sleep(0))  # the helper itself
        AsteriskProvider(config).originate("101", "79161234567")

    with ReplayServer(Session(OK)) as server:
        asyncio.run(from_async_code(server.config()))
    assert server.actions() == ["Login", "Originate", "Logoff"]
