"""`kartoteka asterisk listen|check|originate|agi`: the Asterisk Manager Interface link, and the
FastAGI server (`agi`) the dialplan asks who takes a call (see docs/acd.md).

`listen` runs beside the web server (a systemd unit, a container): it logs in to AMI,
feeds every call and operator event to the contact centre, and reconnects forever with
a growing pause (1 s … 30 s). SIGTERM or Ctrl-C stops it. `check` logs in once and
counts the calls in progress — a test of the settings. `originate` places a
click-to-call from the shell. See docs/asterisk.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import signal
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils.module_loading import import_string

from kartoteka.callcenter.management.commands.erlang import count
from kartoteka.callcenter.providers.asterisk import agi
from kartoteka.callcenter.providers.asterisk.config import AmiConfig
from kartoteka.callcenter.providers.asterisk.listener import Listener, Status
from kartoteka.callcenter.providers.asterisk.protocol import AmiConnection
from kartoteka.callcenter.providers.asterisk.provider import AsteriskProvider
from kartoteka.callcenter.providers.base import Event, ProviderError, Sink

SINK = "kartoteka.callcenter.services.handle_event"
# Modules whose @agi.register handlers the FastAGI server serves.
AGI_HANDLERS = ["kartoteka.callcenter.acd_agi", "kartoteka.ivr.agi"]


def product_sink(path: str) -> Sink:
    """The contact centre's event handler, run in the listener's worker thread."""
    handle: Sink = import_string(path)

    def sink(event: Event) -> None:
        close_old_connections()  # a long-lived thread must not keep a dead connection
        handle(event)

    return sink


async def check(config: AmiConfig) -> dict[str, Any]:
    """Log in, list the channels, log off: what the settings reach."""
    conn = await AmiConnection.connect(config)
    try:
        await conn.login(config.username, config.secret, events=False)
        await conn.action({"Action": "CoreShowChannels"})
        channels: list[dict[str, str]] = []
        async for message in conn.events():
            if message.get("Event") == "CoreShowChannel":
                channels.append(message)
            elif message.get("Event") == "CoreShowChannelsComplete":
                break
    finally:
        await conn.close(logoff=True)
    return {
        "ok": True,
        "banner": conn.banner,
        "channels": len(channels),
        "calls": len({c.get("Linkedid") or c.get("Uniqueid") for c in channels}),
    }


class Command(BaseCommand):
    help = "The Asterisk (AMI) link: listen for call events, check the settings, originate."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listen = sub.add_parser("listen", help="stream AMI events into the contact centre")
        listen.add_argument("--json", action="store_true", help="status as one JSON line")
        listen.add_argument("--sink", default=SINK, help="dotted path of the event handler")
        listen.add_argument("--attempts", type=count(1, 1_000_000), help="stop after N connections")
        probe = sub.add_parser("check", help="log in once and count the calls in progress")
        probe.add_argument("--json", action="store_true")
        call = sub.add_parser("originate", help="ring an extension, then dial a number")
        call.add_argument("extension")
        call.add_argument("number")
        fastagi = sub.add_parser("agi", help="serve FastAGI (agi://host:port/route) to Asterisk")
        fastagi.add_argument("--host", default="127.0.0.1")
        fastagi.add_argument("--port", type=count(1, 65535), default=agi.DEFAULT_PORT)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = AmiConfig.from_mapping(settings.TELEPHONY_CONFIG)
            if options["action"] == "check":
                self._check(config, options["json"])
            elif options["action"] == "originate":
                AsteriskProvider(settings.TELEPHONY_CONFIG).originate(
                    options["extension"], options["number"]
                )
                self.stdout.write(f"originated {options['extension']} → {options['number']}")
            elif options["action"] == "agi":
                self._agi(options["host"], options["port"])
            else:
                self._listen(config, options)
        except ProviderError as exc:
            raise CommandError(str(exc)) from exc

    def _check(self, config: AmiConfig, as_json: bool) -> None:
        result = asyncio.run(check(config))
        if as_json:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                f"{result['banner']}: logged in as {config.username}; "
                f"{result['calls']} calls in progress ({result['channels']} channels)"
            )

    def _listen(self, config: AmiConfig, options: dict[str, Any]) -> None:
        if settings.TELEPHONY_PROVIDER != "asterisk":
            raise CommandError("TELEPHONY_PROVIDER: set it to asterisk to listen to AMI")
        try:
            sink = product_sink(options["sink"])
        except ImportError as exc:
            raise CommandError(f"--sink: cannot import {options['sink']}: {exc}") from exc
        listener = Listener(config, sink, on_status=self._reporter(options["json"]))
        try:
            asyncio.run(self._run(listener, options["attempts"]))
        except KeyboardInterrupt:  # Ctrl-C in a terminal: stop quietly
            return

    def _agi(self, host: str, port: int) -> None:
        for module in AGI_HANDLERS:
            importlib.import_module(module)  # importing registers the handlers
        try:
            asyncio.run(self._serve_agi(host, port))
        except KeyboardInterrupt:
            return
        except OSError as exc:
            raise CommandError(f"--port: cannot listen on {host}:{port}: {exc}") from exc

    async def _serve_agi(self, host: str, port: int) -> None:
        server = await agi.serve(host, port)
        self.stdout.write(f"FastAGI on {host}:{port}: {', '.join(sorted(agi.HANDLERS))}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
        async with server:
            await stop.wait()

    async def _run(self, listener: Listener, attempts: int | None) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            # Only the main thread may set signal handlers; elsewhere Ctrl-C still works.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
        await listener.run(stop, attempts)

    def _reporter(self, as_json: bool) -> Callable[[Status], None]:
        def report(status: Status) -> None:
            if as_json:
                self.stdout.write(json.dumps(status.as_dict()))
                return
            state = "connected" if status.connected else "disconnected"
            line = (
                f"{status.at} AMI {state}; {status.events} events, {status.live_calls} live calls"
            )
            self.stdout.write(line + (f"; {status.last_error}" if status.last_error else ""))

        return report
