"""FastAGI over a real TCP socket: the environment block, commands and replies, HANGUP, 511,
520 usage blocks, a connection cut mid-header, and values that try to inject a command."""

from __future__ import annotations

import asyncio

import pytest

from kartoteka.callcenter.providers.asterisk import agi
from tests.callcenter.asterisk.fake_asterisk import Channel, environment, run


def test_environment_args_and_the_basic_commands():
    seen: dict = {}

    async def handler(session: agi.AgiSession, args: list[str]) -> None:
        seen["args"], seen["caller"] = args, session.env["agi_callerid"]
        await session.set_variable("KT_TARGET", "101")
        seen["digits"] = await session.get_data("enter-contract", 4000, 6)
        seen["key"] = await session.stream_file("press-1", "12")
        await session.say_digits("42")
        seen["exec"] = (await session.exec("Playback", "hello&world")).value
        seen["var"] = await session.get_variable("CALLERID(num)")

    async def asterisk(port: int) -> list[str]:
        chan = await Channel.open(port)
        await chan.send(environment("route", "sales", "x y"))
        lines = [await chan.answer("200 result=1")]
        lines.append(await chan.answer("200 result=123456 (timeout)"))
        lines.append(await chan.answer("200 result=49 endpos=8000"))
        lines.append(await chan.answer("200 result=0"))
        lines.append(await chan.answer("200 result=0"))
        lines.append(await chan.answer("200 result=1 (79161234567)"))
        assert await chan.closed()
        return lines

    lines = run({"route": handler}, asterisk)
    assert lines == [
        'SET VARIABLE KT_TARGET "101"',
        "GET DATA enter-contract 4000 6",
        'STREAM FILE press-1 "12"',
        'SAY DIGITS 42 ""',
        'EXEC Playback "hello&world"',
        "GET VARIABLE CALLERID(num)",
    ]
    assert seen == {
        "args": ["sales", "x y"],
        "caller": "79161234567",
        "digits": "123456",
        "key": "1",
        "exec": 0,
        "var": "79161234567",
    }


def test_a_value_cannot_start_a_second_command():
    async def handler(session: agi.AgiSession, args: list[str]) -> None:
        await session.set_variable("KT_NAME", 'a"b\\c\nHANGUP\r\nEXEC System "rm"')

    async def asterisk(port: int) -> str:
        chan = await Channel.open(port)
        await chan.send(environment("evil"))
        line = await chan.answer()
        assert await chan.closed()
        return line

    assert run({"evil": handler}, asterisk) == (
        'SET VARIABLE KT_NAME "a\\"b\\\\cHANGUPEXEC System \\"rm\\""'
    )
    with pytest.raises(ValueError, match="variable"):
        asyncio.run(agi.AgiSession(None, None).set_variable("A B", "x"))  # type: ignore[arg-type]


def test_hangup_line_then_a_dead_channel():
    outcome: dict = {}

    async def handler(session: agi.AgiSession, args: list[str]) -> None:
        await session.set_variable("A", "1")
        outcome["hung_up"] = session.hung_up
        try:
            await session.get_data("menu", 1000, 1)
        except agi.AgiHangup:
            outcome["get_data"] = "hangup"
        try:
            await session.stream_file("bye")
        except agi.AgiHangup:
            outcome["stream"] = "hangup"
            raise

    async def asterisk(port: int) -> None:
        chan = await Channel.open(port)
        await chan.send(environment("h"))
        await chan.command()
        await chan.send("HANGUP\n200 result=1\n")
        await chan.answer("200 result=-1")
        await chan.answer("511 Command Not Permitted on a dead channel or intercept routine")
        assert await chan.closed()

    run({"h": handler}, asterisk)
    assert outcome == {"hung_up": True, "get_data": "hangup", "stream": "hangup"}


def test_a_520_usage_block_is_read_whole():
    outcome: dict = {}

    async def handler(session: agi.AgiSession, args: list[str]) -> None:
        try:
            await session.command("SAY NUMBER")
        except agi.AgiError as exc:
            outcome["error"] = str(exc)
        outcome["after"] = (await session.command("NOOP")).value

    async def asterisk(port: int) -> None:
        chan = await Channel.open(port)
        await chan.send(environment("u"))
        await chan.command()
        await chan.send(
            "520-Invalid command syntax.  Proper usage follows:\n"
            "Usage: SAY NUMBER <number> <escape digits>\n"
            "520 End of proper usage.\n"
        )
        await chan.answer("200 result=0")
        assert await chan.closed()

    run({"u": handler}, asterisk)
    assert "520" in outcome["error"] and outcome["after"] == 0


def test_a_cut_mid_header_runs_nothing_and_the_server_goes_on():
    calls: list[list[str]] = []

    async def handler(session: agi.AgiSession, args: list[str]) -> None:
        calls.append(args)
        await session.set_variable("OK", "1")

    async def asterisk(port: int) -> str:
        cut = await Channel.open(port)
        await cut.send(environment("route", "sales")[:60])  # the header block, cut short
        cut.close()
        garbage = await Channel.open(port)
        await garbage.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert await garbage.closed()
        chan = await Channel.open(port)
        await chan.send(environment("route", "next"))
        return await chan.answer()

    assert run({"route": handler}, asterisk) == 'SET VARIABLE OK "1"'
    assert calls == [["next"]]


def test_an_unknown_script_is_told_and_closed():
    async def asterisk(port: int) -> str:
        chan = await Channel.open(port)
        await chan.send(environment("nope"))
        line = await chan.answer()
        assert await chan.closed()
        return line

    assert run({}, asterisk) == 'SET VARIABLE KT_AGI_ERROR "unknown script"'


def test_the_caller_hanging_up_mid_handler_ends_it_quietly():
    async def handler(session: agi.AgiSession, args: list[str]) -> None:
        await session.set_variable("A", "1")
        await session.set_variable("B", "2")

    async def asterisk(port: int) -> None:
        chan = await Channel.open(port)
        await chan.send(environment("h"))
        await chan.command()
        chan.close()  # Asterisk went away without a reply

    run({"h": handler}, asterisk)  # no exception escapes the server


def test_register_and_the_script_path():
    @agi.register("test-script")
    async def handler(session: agi.AgiSession, args: list[str]) -> None:
        return None

    try:
        assert agi.HANDLERS["test-script"] is handler
    finally:
        del agi.HANDLERS["test-script"]
    session = agi.AgiSession(None, None)  # type: ignore[arg-type]
    session.env = {"agi_request": "agi://pbx:4573/route?queue=sales", "agi_arg_1": "a"}
    assert session.script == "route" and session.args == ["a"]


def test_an_oversized_header_line_closes_the_connection():
    calls: list[str] = []

    async def handler(session: agi.AgiSession, args: list[str]) -> None:
        calls.append("ran")

    async def asterisk(port: int) -> bool:
        chan = await Channel.open(port)
        await chan.send(b"agi_callerid: " + b"7" * (agi.MAX_LINE * 2) + b"\n\n")
        return await chan.closed()

    assert run({"route": handler}, asterisk) and calls == []


def test_say_digits_of_nothing_sends_nothing():
    async def handler(session: agi.AgiSession, args: list[str]) -> None:
        await session.say_digits("")
        await session.set_variable("DONE", "1")

    async def asterisk(port: int) -> str:
        chan = await Channel.open(port)
        await chan.send(environment("s"))
        return await chan.answer()

    assert run({"s": handler}, asterisk) == 'SET VARIABLE DONE "1"'
