"""FastAGI: Asterisk asks Kartoteka over TCP what to do with a channel.

The dialplan runs `AGI(agi://kartoteka:4573/route,sales)`; Asterisk connects, sends its
environment as "agi_key: value" lines ended by an empty line, then waits for commands, one line
each, answering every one with "200 result=N [(data)] [endpos=…]" (510: unknown command, 511:
not allowed on a dead channel, "520-" … "520 End of proper usage." for bad syntax). When the
caller hangs up, Asterisk may send a lone "HANGUP" line between replies.

`AgiSession` speaks that protocol; `HANDLERS` maps the script path of the AGI URL ("route",
"ivr") to a coroutine `handler(session, args)`; `serve()` is the asyncio TCP server. Anything
the caller controls (caller id, digits) may reach a command's argument: arguments are quoted,
and CR, LF and NUL are removed so a value can never start a second command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

DEFAULT_PORT = 4573
MAX_LINE = 8 * 1024
MAX_HEADERS = 200
ENV_TIMEOUT_S = 10.0  # Asterisk sends the whole environment at once
REPLY_TIMEOUT_S = 600.0  # a prompt with digit input may take a while
NAME_RE = re.compile(r"[A-Za-z0-9_.()-]{1,80}")
WORD_RE = re.compile(r"[A-Za-z0-9_./:-]{1,200}")
DIGITS_RE = re.compile(r"[0-9*#]{0,40}")
REPLY_RE = re.compile(r"^(?P<code>\d{3})(?P<sep>[ -]?)(?P<rest>.*)$")
RESULT_RE = re.compile(r"^result=(?P<result>\S*)(?:\s+\((?P<data>[^)]*)\))?(?:\s+(?P<extra>.*))?$")


class AgiError(Exception):
    """Asterisk refused a command (510, 520) or answered something that is not AGI."""


class AgiHangup(AgiError):
    """The channel hung up or the connection is gone: the handler's work is over."""


@dataclass(frozen=True)
class AgiReply:
    code: int
    result: str = ""
    data: str = ""  # the text in parentheses: "timeout", a variable's value, …
    extra: str = ""  # "endpos=12345"
    raw: str = ""

    @property
    def value(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            return -1


def clean(value: object) -> str:
    """A value for a command argument: no line breaks or NUL (they would end the command)."""
    return re.sub(r"[\r\n\x00]", "", str(value))


def quote(value: object) -> str:
    text = clean(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _checked(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{what}: {value[:80]!r} is not allowed")
    return value


class AgiSession:
    """One channel's FastAGI conversation."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.env: dict[str, str] = {}
        self.hung_up = False

    # --- the environment ----------------------------------------------------------------------

    async def read_env(self, timeout: float = ENV_TIMEOUT_S) -> dict[str, str]:
        """Read the "agi_*: value" block up to its empty line; AgiHangup if the connection ends
        first (a cut mid-header), AgiError if it is not AGI."""
        async with asyncio.timeout(timeout):
            for _n in range(MAX_HEADERS + 1):
                line = await self._line()
                if line == "":
                    return self.env
                key, sep, value = line.partition(":")
                if not sep or not key.startswith("agi_"):
                    raise AgiError(f"not an AGI environment line: {line[:80]!r}")
                self.env[key.strip()] = value.strip()
        raise AgiError(f"more than {MAX_HEADERS} environment lines")

    @property
    def script(self) -> str:
        """The handler's name: the AGI URL's path ("agi://host:4573/route?x=1" -> "route")."""
        raw = self.env.get("agi_network_script") or urlsplit(self.env.get("agi_request", "")).path
        return raw.split("?", 1)[0].strip("/")

    @property
    def args(self) -> list[str]:
        """The AGI() arguments after the URL: agi_arg_1, agi_arg_2, …"""
        out = []
        for n in range(1, MAX_HEADERS):
            value = self.env.get(f"agi_arg_{n}")
            if value is None:
                break
            out.append(value)
        return out

    # --- commands -----------------------------------------------------------------------------

    async def command(self, line: str) -> AgiReply:
        """Send one command line, return its reply. AgiHangup on 511 or a closed connection,
        AgiError on 510 / 520 (with the usage text)."""
        self.writer.write(clean(line).encode() + b"\n")
        try:
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            raise AgiHangup(str(exc)) from exc
        async with asyncio.timeout(REPLY_TIMEOUT_S):
            reply = await self._reply()
        if reply.code == 511:
            self.hung_up = True
            raise AgiHangup(reply.raw)
        if reply.code != 200:
            raise AgiError(f"{line.split(' ', 2)[:2]} -> {reply.raw}")
        return reply

    async def _reply(self) -> AgiReply:
        while True:
            line = await self._line()
            if line == "HANGUP":  # sent when the caller hangs up; the reply still follows
                self.hung_up = True
                continue
            if line == "":
                continue
            match = REPLY_RE.match(line)
            if match is None:
                raise AgiError(f"not an AGI reply: {line[:80]!r}")
            code = int(match["code"])
            if match["sep"] == "-":  # "520-Invalid command syntax…": usage lines to "520 …"
                usage = [match["rest"]]
                while not (usage_line := await self._line()).startswith(f"{code} "):
                    usage.append(usage_line)
                return AgiReply(code, data="\n".join(usage), raw=line)
            found = RESULT_RE.match(match["rest"].strip()) if code == 200 else None
            if found is None:
                return AgiReply(code, data=match["rest"].strip(), raw=line)
            return AgiReply(
                code, found["result"], found["data"] or "", found["extra"] or "", raw=line
            )

    async def _line(self) -> str:
        try:
            raw = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            raise AgiHangup("the connection closed") from exc
        except asyncio.LimitOverrunError as exc:
            raise AgiError("a line longer than the limit") from exc
        except (ConnectionError, OSError) as exc:
            raise AgiHangup(str(exc)) from exc
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    # --- the commands handlers use ------------------------------------------------------------

    async def set_variable(self, name: str, value: object) -> None:
        await self.command(f"SET VARIABLE {_checked(NAME_RE, name, 'variable')} {quote(value)}")

    async def get_variable(self, name: str) -> str | None:
        reply = await self.command(f"GET VARIABLE {_checked(NAME_RE, name, 'variable')}")
        return reply.data if reply.value == 1 else None

    async def get_data(self, prompt: str, timeout_ms: int = 5000, max_digits: int = 0) -> str:
        """Play `prompt`, collect up to `max_digits` keys ("" on timeout); AgiHangup if the
        caller hung up (result -1)."""
        prompt = _checked(WORD_RE, prompt, "prompt")
        line = f"GET DATA {prompt} {max(0, int(timeout_ms))}"
        if max_digits:
            line += f" {max(1, min(int(max_digits), 40))}"
        reply = await self.command(line)
        if reply.result == "-1":
            self.hung_up = True
            raise AgiHangup(reply.raw)
        return reply.result if DIGITS_RE.fullmatch(reply.result) else ""

    async def stream_file(self, name: str, escape_digits: str = "") -> str:
        """Play a sound file; the key that interrupted it, or "" if it played through."""
        name = _checked(WORD_RE, name, "file")
        escape = _checked(DIGITS_RE, escape_digits, "escape digits")
        reply = await self.command(f"STREAM FILE {name} {quote(escape)}")
        if reply.value < 0:
            self.hung_up = True
            raise AgiHangup(reply.raw)
        return chr(reply.value) if reply.value > 0 else ""

    async def say_digits(self, digits: str) -> None:
        """Say each digit; nothing to say for ""."""
        if not _checked(DIGITS_RE, digits, "digits"):
            return
        reply = await self.command(f'SAY DIGITS {digits} ""')
        if reply.value < 0:
            self.hung_up = True
            raise AgiHangup(reply.raw)

    async def exec(self, app: str, args: str = "") -> AgiReply:
        """Run a dialplan application (Dial, Queue, Playback, …); result -2: no such app."""
        app = _checked(NAME_RE, app, "application")
        reply = await self.command(f"EXEC {app} {quote(args)}")
        if reply.value == -2:
            raise AgiError(f"no application {app}")
        return reply


# --- handlers and the server ------------------------------------------------------------------

Handler = Callable[[AgiSession, list[str]], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}


def register(name: str) -> Callable[[Handler], Handler]:
    """`@register("route")`: the handler of agi://host:port/route."""

    def add(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return add


async def handle_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handlers: dict[str, Handler] | None = None,
) -> None:
    """One FastAGI connection: its environment, its handler, then close — whatever happens."""
    handlers = HANDLERS if handlers is None else handlers
    session = AgiSession(reader, writer)
    try:
        await session.read_env()
        handler = handlers.get(session.script)
        if handler is None:
            log.warning("AGI: no handler for script %r", session.script[:80])
            await session.set_variable("KT_AGI_ERROR", "unknown script")
            return
        await handler(session, session.args)
    except AgiHangup:
        log.debug("AGI: the channel hung up")
    except (AgiError, ValueError, TimeoutError) as exc:
        log.warning("AGI %r: %s", session.script[:80], exc)
    except Exception:  # a handler's bug must not stop the server
        log.exception("AGI %r failed", session.script[:80])
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


async def serve(
    host: str = "127.0.0.1", port: int = DEFAULT_PORT, handlers: dict[str, Handler] | None = None
) -> asyncio.Server:
    """Start listening; the caller runs `server.serve_forever()` or closes it."""

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handle_connection(reader, writer, handlers)

    return await asyncio.start_server(connected, host, port, limit=MAX_LINE)
