"""A fake Asterisk for FastAGI tests: a real TCP client speaking the exact wire format."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from kartoteka.callcenter.providers.asterisk import agi

T = TypeVar("T")


def environment(script: str, *args: str, callerid: str = "79161234567", **extra: str) -> bytes:
    lines = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": f"agi://127.0.0.1/{script}",
        "agi_channel": "PJSIP/trunk-00000001",
        "agi_language": "ru",
        "agi_uniqueid": "1733450000.1",
        "agi_callerid": callerid,
        "agi_calleridname": "Ivan",
        **extra,
    }
    lines.update({f"agi_arg_{n}": value for n, value in enumerate(args, 1)})
    return "".join(f"{k}: {v}\n" for k, v in lines.items()).encode() + b"\n"


class Channel:
    """One FastAGI connection as Asterisk makes it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Channel:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes | str) -> None:
        self.writer.write(data.encode() if isinstance(data, str) else data)
        await self.writer.drain()

    async def command(self) -> str:
        """The next command line the server sent ("" once it closed the connection)."""
        line = await asyncio.wait_for(self.reader.readline(), 5)
        return line.decode().rstrip("\n")

    async def answer(self, reply: str = "200 result=1") -> str:
        """Read a command, answer it; return the command."""
        line = await self.command()
        await self.send(reply + "\n")
        return line

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), 5) == b""

    def close(self) -> None:
        self.writer.close()


async def with_server(
    handlers: dict[str, agi.Handler] | None, script: Callable[[int], Awaitable[T]]
) -> T:
    server = await agi.serve("127.0.0.1", 0, handlers)
    port = server.sockets[0].getsockname()[1]
    try:
        return await asyncio.wait_for(script(port), 20)
    finally:
        server.close()
        await server.wait_closed()


def run(handlers: dict[str, agi.Handler] | None, script: Callable[[int], Awaitable[Any]]) -> Any:
    return asyncio.run(with_server(handlers, script))
