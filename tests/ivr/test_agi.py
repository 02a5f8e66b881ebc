"""The FastAGI handler with a fake AGI session: prompts, digits, KT_QUEUE, answers on the call."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from kartoteka.callcenter.models import Call
from kartoteka.ivr import agi
from tests.callcenter.conftest import IVAN_PHONE

pytestmark = pytest.mark.django_db(transaction=True)


class FakeAgi:
    """Records every AGI command; get_data answers from a script ("" is a timeout)."""

    def __init__(self, pressed: Iterable[str], **env: str) -> None:
        self.env = {
            "agi_callerid": IVAN_PHONE,
            "agi_dnid": "84950000000",
            "agi_uniqueid": "1733400000.42",
            **env,
        }
        self.pressed = list(pressed)
        self.log: list[tuple[str, ...]] = []
        self.variables: dict[str, str] = {}

    async def stream_file(self, name: str, escape_digits: str = "") -> str:
        self.log.append(("stream_file", name))
        return ""

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> str:
        self.log.append(("get_data", prompt, str(timeout_ms), str(max_digits)))
        return self.pressed.pop(0) if self.pressed else ""

    async def say_digits(self, digits: str) -> None:
        self.log.append(("say_digits", digits))

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    async def exec(self, app: str, args: str) -> str:
        self.log.append(("exec", app, args))
        return "0"


def run(session: FakeAgi, *args: str) -> None:
    try:
        asyncio.run(agi.run_ivr(session, list(args)))
    finally:
        # The ORM ran in asgiref's worker thread: close its connection there, or PostgreSQL
        # cannot drop the test database at the end.
        asyncio.run(sync_to_async(connections.close_all)())


@pytest.fixture(autouse=True)
def seeded():
    from tests.conftest import ensure_seeded

    ensure_seeded()


def test_the_caller_enters_a_deal_and_is_routed(menu, deal, ivan, settings):
    settings.IVR_TTS_APP = "Festival"
    session = FakeAgi(["1", "1", f"{deal.pk}#", "*", "2"])
    run(session)
    assert session.variables["KT_QUEUE"] == "sales"
    assert session.variables["IVR_DEAL"] == str(deal.pk)
    assert session.variables["IVR_MENU"] == "Hotline"
    assert ("say_digits", "20122026") in session.log
    assert ("exec", "Festival", "Press 1 for billing  2 for sales") in session.log
    assert ("get_data", "silence/1", "5000", "10") in [e for e in session.log if e[0] == "get_data"]
    call = Call.objects.get(provider="asterisk", call_id="1733400000.42")
    assert call.ivr["deal"] == str(deal.pk) and call.ivr["queue"] == "sales"
    assert call.client_id == ivan.pk


def test_sound_files_are_played_with_barge_in(menu):
    from kartoteka.ivr.models import Node

    Node.objects.filter(menu=menu, parent=None).update(sound="custom/welcome")
    session = FakeAgi(["2"])
    run(session)
    assert session.log[0] == ("get_data", "custom/welcome", "5000", "1")


def test_timeouts_and_garbage_reach_the_retry_limit_and_hang_up(menu):
    session = FakeAgi(["", "(timeout)", "²"])
    run(session)
    assert session.variables["KT_QUEUE"] == ""
    assert session.log[-1] == ("exec", "Hangup", "")
    assert Call.objects.get(provider="asterisk").ivr["menu"] == "Hotline"


def test_no_menu_for_the_number_leaves_the_dialplan_to_go_on(menu):
    session = FakeAgi(["1"], agi_dnid="84950000999")
    run(session)
    assert session.variables == {"KT_QUEUE": ""} and session.log == []


def test_the_menu_may_be_named_by_id(menu):
    session = FakeAgi(["2"], agi_dnid="unknown", agi_extension="s")
    run(session, str(menu.pk))
    assert session.variables["KT_QUEUE"] == "sales"


def test_a_caller_hanging_up_mid_menu_still_leaves_the_path(menu):
    class Gone(Exception):
        pass

    class HangsUp(FakeAgi):
        async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> str:
            if self.pressed:
                return self.pressed.pop(0)
            raise Gone

    with pytest.raises(Gone):
        run(HangsUp(["1"]))
    assert Call.objects.get(provider="asterisk").ivr["path"] == "Billing"


@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
def test_the_agi_server_runs_the_ivr_script_over_tcp():
    """`kartoteka asterisk agi` imports this handler; a channel with no menu goes on unrouted."""
    from kartoteka.callcenter.management.commands.asterisk import AGI_HANDLERS
    from kartoteka.callcenter.providers.asterisk import agi as server
    from tests.callcenter.asterisk.fake_asterisk import Channel, environment
    from tests.callcenter.asterisk.fake_asterisk import run as serve

    assert "kartoteka.ivr.agi" in AGI_HANDLERS
    assert server.HANDLERS["ivr"] is agi.run_ivr

    async def asterisk(port: int) -> list[str]:
        chan = await Channel.open(port)
        await chan.send(environment("ivr", agi_dnid="nowhere"))
        said = [await chan.answer()]
        assert await chan.closed()
        return said

    assert serve(server.HANDLERS, asterisk) == ['SET VARIABLE KT_QUEUE ""']
