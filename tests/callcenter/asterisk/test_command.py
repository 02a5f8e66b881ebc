"""`kartoteka asterisk …` against the replay server."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kartoteka.callcenter.providers.base import Event
from tests.callcenter.asterisk.replay import ReplayServer, Session
from tests.callcenter.asterisk.streams import events_of, raw

collected: list[Event] = []


def collect(event: Event) -> None:
    collected.append(event)


@pytest.fixture
def pbx(settings):
    def start(*sessions: Session, **config) -> ReplayServer:
        server = ReplayServer(*sessions)
        settings.TELEPHONY_PROVIDER = "asterisk"
        settings.TELEPHONY_CONFIG = server.config(**config)
        servers.append(server)
        return server

    servers: list[ReplayServer] = []
    collected.clear()
    yield start
    for server in servers:
        server.close()


def test_listen_feeds_the_sink_and_reports_json(pbx, capsys):
    pbx(Session(raw("queue_call"), drop=True))
    sink = "tests.callcenter.asterisk.test_command.collect"
    call_command("asterisk", "listen", "--json", "--attempts", "1", "--sink", sink)
    assert collected == events_of("queue_call")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["connected"] is True and lines[0]["connects"] == 1
    assert lines[-1]["connected"] is False and lines[-1]["events"] == 5
    assert lines[-1]["last_error"] == "The PBX closed the connection."


def test_listen_text_status_after_refused_login(pbx, capsys):
    pbx(Session(raw("login_refused")))
    sink = "tests.callcenter.asterisk.test_command.collect"
    call_command("asterisk", "listen", "--attempts", "1", "--sink", sink)
    out = capsys.readouterr().out
    assert "AMI disconnected" in out and "Authentication failed" in out
    assert collected == []


def test_listen_needs_asterisk_as_the_provider(pbx, settings):
    pbx(Session(raw("queue_call")))
    settings.TELEPHONY_PROVIDER = "webhook"
    with pytest.raises(CommandError, match="TELEPHONY_PROVIDER"):
        call_command("asterisk", "listen", "--attempts", "1")


@pytest.mark.parametrize("attempts", ["0", "-1", "two"])
def test_listen_refuses_a_bad_attempt_count(attempts):
    # 0 or a negative count used to return at once, silently, without connecting
    with pytest.raises(CommandError, match="--attempts"):
        call_command("asterisk", "listen", "--attempts", attempts)


def test_listen_with_a_sink_that_does_not_import(pbx):
    pbx(Session(raw("queue_call")))
    with pytest.raises(CommandError, match="--sink"):
        call_command("asterisk", "listen", "--attempts", "1", "--sink", "nowhere.handle")


def test_check_counts_calls_in_progress(pbx, capsys):
    pbx(Session(raw("queue_call"), replies={"CoreShowChannels": raw("reconnect_listing")}))
    call_command("asterisk", "check", "--json")
    result = json.loads(capsys.readouterr().out)
    assert result == {
        "ok": True,
        "banner": "Asterisk Call Manager/5.0.1",
        "channels": 3,
        "calls": 2,
    }


def test_check_reports_a_refused_login(pbx):
    pbx(Session(raw("login_refused")))
    with pytest.raises(CommandError, match="Authentication failed"):
        call_command("asterisk", "check")


@pytest.mark.parametrize(
    "key, value",
    [
        ("ami_channel", "PJSIP/{ext}"),
        ("ami_channel", "PJSIP/101"),
        ("ami_recording_url", "https://pbx/{0}"),
        ("ami_extension_pattern", "[0-9"),
        ("ami_port", "five"),
    ],
)
def test_bad_settings_name_the_key(pbx, key, value):
    pbx(Session(raw("queue_call")), **{key: value})
    with pytest.raises(CommandError, match=key):
        call_command("asterisk", "check")


def test_originate_from_the_shell(pbx, capsys):
    server = pbx(Session(raw("direct_call").split(b"Event:")[0]))
    call_command("asterisk", "originate", "101", "79161234567")
    assert server.actions() == ["Login", "Originate", "Logoff"]
    assert "originated 101" in capsys.readouterr().out
