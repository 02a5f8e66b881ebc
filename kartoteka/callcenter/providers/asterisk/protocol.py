"""The Asterisk Manager Interface wire format and one connection to it.

AMI is line-based text over TCP: the server greets with one banner line
("Asterisk Call Manager/5.0.1"), then both sides exchange messages made of
"Key: Value" lines ended by CRLF, each message closed by an empty line.
`Framer` cuts a byte stream into messages without doing any I/O (so any split of
the stream into TCP reads gives the same messages); `AmiConnection` is one asyncio
connection: it sends actions with an ActionID and matches the responses, and
queues every event for the reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import ssl
from collections.abc import AsyncIterator, Mapping

from django.utils.translation import gettext as _

from kartoteka.callcenter.providers.asterisk.config import AmiConfig
from kartoteka.callcenter.providers.base import ProviderError

log = logging.getLogger(__name__)

Message = dict[str, str]
BANNER = "Asterisk Call Manager/"
# Channel variables arrive as repeated "ChanVariable: NAME=value" lines (or, before
# Asterisk 12, "ChanVariable(PJSIP/101-00000001): NAME=value"); each becomes its own
# key "ChanVariable.NAME" so a plain dict keeps them all. Dest* for the dialled side.
VARIABLE_KEYS = ("ChanVariable", "DestChanVariable")
MAX_LINE = 64 * 1024  # a longer line is not AMI: the message holding it is dropped
MAX_FIELDS = 1000


class ConnectionLost(ProviderError):
    """The server closed the connection or it broke."""


class Framer:
    """Bytes in, complete AMI messages out; partial input waits for more."""

    def __init__(self, expect_banner: bool = True) -> None:
        self.buffer = bytearray()
        self.fields: Message = {}
        self.banner: str | None = None if expect_banner else ""
        self.garbage = 0  # lines that were not "Key: Value", skipped
        self.dropped = 0  # messages thrown away as oversized
        self._broken = False  # the message being read had an oversized line

    def feed(self, data: bytes) -> list[Message]:
        self.buffer += data
        cut = self.buffer.rfind(b"\n")
        out: list[Message] = []
        if cut >= 0:
            # Every complete line at once: one decode and one split in C; the tail waits.
            text = self.buffer[:cut].decode("utf-8", errors="replace")
            del self.buffer[: cut + 1]
            for line in text.split("\n"):
                message = self._line(line)
                if message is not None:
                    out.append(message)
        if len(self.buffer) > MAX_LINE:  # an endless line must not grow the buffer forever
            self.buffer.clear()
            self._broken = True
        return out

    def pending(self) -> bool:
        """Part of a message is buffered: a stream that ends now was cut mid-message."""
        return bool(self.fields or self.buffer.strip())

    def _line(self, line: str) -> Message | None:
        if len(line) > MAX_LINE:
            self._broken = True
            return None
        line = line.rstrip("\r")
        if self.banner is None:
            self.banner = line
            return None
        if not line.strip():
            return self._close()
        key, sep, value = line.partition(":")
        if not sep or not key or key != key.strip() or " " in key:
            self.garbage += 1
            return None
        self._add(key, value[1:] if value.startswith(" ") else value)
        return None

    def _add(self, key: str, value: str) -> None:
        if len(self.fields) >= MAX_FIELDS:
            self._broken = True
            return
        base = key.split("(", 1)[0]
        if base in VARIABLE_KEYS and "=" in value:
            name, _eq, val = value.partition("=")
            self.fields[f"{base}.{name.strip()}"] = val
        elif key in self.fields:  # repeated plain keys (Output:) are kept line by line
            self.fields[key] += "\n" + value
        else:
            self.fields[key] = value

    def _close(self) -> Message | None:
        message, self.fields = self.fields, {}
        if self._broken:
            self._broken = False
            self.dropped += 1
            return None
        return message or None


def encode(fields: Mapping[str, str]) -> bytes:
    """One message on the wire; a CR or LF in a value would smuggle in more headers."""
    lines = []
    for key, value in fields.items():
        text = str(value)
        if "\r" in text or "\n" in text or "\r" in key or "\n" in key or ":" in key:
            raise ProviderError(
                _("Invalid character in the %(field)s sent to the PBX.") % {"field": key}
            )
        lines.append(f"{key}: {text}\r\n")
    return ("".join(lines) + "\r\n").encode()


class AmiConnection:
    """One logged-in AMI session: `action()` waits for its Response, `events()` yields Events."""

    _ids = itertools.count(1)

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = timeout
        self.framer = Framer()
        self.banner = ""
        self.pending: dict[str, asyncio.Future[Message]] = {}
        self.queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self.closed = False
        self.cut_mid_message = False
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, config: AmiConfig) -> AmiConnection:
        """A connection as TELEPHONY_CONFIG says: where, how long to wait, over TLS or not."""
        return await cls.open(config.host, config.port, config.timeout, config.ssl_context())

    @classmethod
    async def open(
        cls, host: str, port: int, timeout: float, tls: ssl.SSLContext | None = None
    ) -> AmiConnection:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, limit=MAX_LINE * 2, ssl=tls), timeout
            )
        except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError: a bad certificate
            raise ConnectionLost(
                _("Cannot reach the PBX at %(host)s:%(port)s: %(error)s")
                % {"host": host, "port": port, "error": exc or "timeout"}
            ) from exc
        conn = cls(reader, writer, timeout)
        await conn._read_banner()
        conn._task = asyncio.create_task(conn._read_loop())
        return conn

    async def _read_banner(self) -> None:
        try:
            while self.framer.banner is None:
                chunk = await asyncio.wait_for(self.reader.read(4096), self.timeout)
                if not chunk:
                    break
                for message in self.framer.feed(chunk):
                    self._dispatch(message)
        except TimeoutError:
            pass
        self.banner = self.framer.banner or ""
        if not self.banner.startswith(BANNER):
            self.writer.close()
            raise ProviderError(_("The PBX did not greet as an Asterisk manager interface."))

    async def _read_loop(self) -> None:
        try:
            while chunk := await self.reader.read(65536):
                for message in self.framer.feed(chunk):
                    self._dispatch(message)
        except (OSError, asyncio.IncompleteReadError) as exc:
            log.warning("AMI connection broke: %s", exc)
        finally:
            self._lost()

    def _dispatch(self, message: Message) -> None:
        action_id = message.get("ActionID", "")
        if "Event" in message:  # before Response: OriginateResponse events carry both
            self.queue.put_nowait(message)
        elif "Response" in message and action_id in self.pending:
            future = self.pending.pop(action_id)
            if not future.done():
                future.set_result(message)
        else:
            log.debug("AMI message neither event nor awaited response: %s", message)

    def _lost(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.cut_mid_message = self.framer.pending()
        if self.cut_mid_message:
            log.warning("AMI stream ended in the middle of a message; the partial one is dropped")
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionLost(_("The PBX closed the connection.")))
        self.pending.clear()
        self.queue.put_nowait(None)

    async def send(self, fields: Mapping[str, str]) -> str:
        """Send an action without waiting; returns its ActionID."""
        if self.closed:
            raise ConnectionLost(_("The PBX closed the connection."))
        action_id = fields.get("ActionID") or f"kt-{next(self._ids)}"
        self.writer.write(encode({**fields, "ActionID": action_id}))
        await self.writer.drain()
        return action_id

    async def action(self, fields: Mapping[str, str], *, check: bool = True) -> Message:
        """Send an action and wait for its Response; "Response: Error" raises with the Message."""
        action_id = fields.get("ActionID") or f"kt-{next(self._ids)}"
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self.pending[action_id] = future
        try:
            await self.send({**fields, "ActionID": action_id})
            response = await asyncio.wait_for(future, self.timeout)
        except TimeoutError as exc:
            raise ProviderError(
                _("The PBX did not answer %(action)s in time.") % {"action": fields["Action"]}
            ) from exc
        except OSError as exc:
            raise ConnectionLost(_("The PBX closed the connection.")) from exc
        finally:
            self.pending.pop(action_id, None)
        if check and response.get("Response", "").lower() not in ("success", "follows", "goodbye"):
            raise ProviderError(
                _("The PBX refused %(action)s: %(message)s")
                % {"action": fields["Action"], "message": response.get("Message", "?")}
            )
        return response

    async def login(self, username: str, secret: str, events: bool) -> None:
        try:
            await self.action(
                {
                    "Action": "Login",
                    "Username": username,
                    "Secret": secret,
                    "Events": "on" if events else "off",
                }
            )
        except ProviderError:
            await self.close()
            raise

    async def events(self) -> AsyncIterator[Message]:
        """Every event in stream order, until the connection ends."""
        while (message := await self.queue.get()) is not None:
            yield message

    async def close(self, logoff: bool = False) -> None:
        if logoff and not self.closed:
            with contextlib.suppress(ProviderError):
                await self.action({"Action": "Logoff"}, check=False)
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await self._task
        self._lost()
