"""The long-running AMI event reader: connect, log in, catch up, stream, reconnect forever.

After every (re)connect it asks for `CoreShowChannels` — the calls in progress — and
`QueueStatus` — the queue members; the correlator turns the listing into the events
missed while the link was down and drops those it has already emitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from kartoteka.callcenter.providers.asterisk.config import AmiConfig
from kartoteka.callcenter.providers.asterisk.correlate import Correlator
from kartoteka.callcenter.providers.asterisk.protocol import AmiConnection, ConnectionLost
from kartoteka.callcenter.providers.base import Event, ProviderError, Sink

log = logging.getLogger(__name__)
# A session that lasted this long resets the pause before reconnecting; one that a PBX
# drops right after login (a full session limit, a restart loop) keeps the pause growing.
STABLE_SECONDS = 30.0


@dataclass
class Status:
    """What `kartoteka asterisk listen --json` reports on every change of the link."""

    connected: bool = False
    connects: int = 0  # successful logins
    failures: int = 0  # attempts that failed (refused, unreachable, dropped)
    messages: int = 0  # AMI events read
    events: int = 0  # normalized events handed to the sink
    sink_errors: int = 0
    bad_messages: int = 0  # messages the correlator failed on (logged with their trace)
    garbage_lines: int = 0
    cut_messages: int = 0  # connections that ended mid-message
    live_calls: int = 0
    last_error: str = ""
    unknown_events: dict[str, int] = field(default_factory=dict)
    at: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Listener:
    def __init__(
        self,
        config: AmiConfig,
        sink: Sink,
        *,
        correlator: Correlator | None = None,
        threaded_sink: bool = True,
        backoff: tuple[float, float] = (1.0, 30.0),
        on_status: Callable[[Status], None] | None = None,
    ) -> None:
        self.config = config
        self.sink = sink
        self.correlator = correlator or Correlator(config)
        # The product sink writes with the Django ORM, which refuses to run inside an event
        # loop: it is called in a worker thread, one event at a time so order is kept.
        self.threaded_sink = threaded_sink
        self.backoff = backoff
        self.on_status = on_status or (lambda status: None)
        self.status = Status()
        self._silence = ""  # why the current session was given up, when we gave it up

    async def run(self, stop: asyncio.Event | None = None, attempts: int | None = None) -> None:
        """Keep a session up until `stop` is set (or `attempts` connections were tried)."""
        stop = stop or asyncio.Event()
        delay = self.backoff[0]
        tried = 0
        while not stop.is_set() and (attempts is None or tried < attempts):
            tried += 1
            started = time.monotonic()
            try:
                await self.session(stop)
            except ProviderError as exc:
                self.status.failures += 1
                self.status.last_error = str(exc)
                log.warning("AMI: %s", exc)
            if time.monotonic() - started >= STABLE_SECONDS:
                delay = self.backoff[0]  # it was up a while: the next try comes quickly
            self._report(connected=False)
            if stop.is_set() or (attempts is not None and tried >= attempts):
                break
            await self.pause(stop, delay)
            delay = min(delay * 2, self.backoff[1])

    async def pause(self, stop: asyncio.Event, seconds: float) -> None:
        """Wait before reconnecting; a stop request cuts it short."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def session(self, stop: asyncio.Event | None = None) -> None:
        """One connection, from the banner to its end."""
        config = self.config
        conn = await AmiConnection.connect(config)
        stopper = asyncio.create_task((stop or asyncio.Event()).wait())
        asking: asyncio.Task[None] | None = None
        self._silence = ""
        try:
            await conn.login(config.username, config.secret, events=True)
            self.status.connects += 1
            self.status.last_error = ""
            self._report(connected=True)
            self.correlator.begin_listing()
            # Asked in the background: events already on the wire are read meanwhile, so a
            # link that drops before the listing answers loses none of them.
            asking = asyncio.create_task(self._converse(conn))
            stopper.add_done_callback(lambda _task: conn.queue.put_nowait(None))
            async for message in conn.events():
                self.status.messages += 1
                for event in self._correlate(message):
                    await self._deliver(event)
            if not stopper.done():
                self.status.failures += 1
                self.status.last_error = self._silence or _("The PBX closed the connection.")
        finally:
            stopper.cancel()
            if asking is not None:
                asking.cancel()
            self.status.garbage_lines += conn.framer.garbage
            await conn.close()
            self.status.cut_messages += int(conn.cut_mid_message)

    async def _converse(self, conn: AmiConnection) -> None:
        """Ask what changed while the link was down, then keep checking the PBX is there."""
        await self._ask_state(conn)
        while self.config.ping > 0:
            await asyncio.sleep(self.config.ping)
            try:
                await conn.action({"Action": "Ping"})
            except ConnectionLost:
                return
            except ProviderError as exc:
                # A PBX that died without closing the socket sends nothing, ever: without
                # this the listener would wait forever on a dead link.
                self._silence = str(exc)
                log.warning("AMI: %s; reconnecting", exc)
                conn.writer.transport.abort()
                return

    async def _ask_state(self, conn: AmiConnection) -> None:
        """Calls in progress and queue members: what changed while the link was down."""
        for action in ("CoreShowChannels", "QueueStatus"):
            try:
                await conn.action({"Action": action})
            except ConnectionLost:
                return  # the session's end says so
            except ProviderError as exc:
                # Without the listing the feed still works; missed calls stay missed.
                log.warning("AMI: %s failed: %s", action, exc)
                self.status.last_error = str(exc)

    def _correlate(self, message: dict[str, str]) -> list[Event]:
        try:
            return self.correlator.feed(message)
        except Exception:
            # A message the correlator chokes on is a bug to log, not a reason to stop the feed.
            self.status.bad_messages += 1
            log.exception("AMI: cannot read %s", message.get("Event"))
            return []

    async def _deliver(self, event: Event) -> None:
        try:
            if self.threaded_sink:
                await asyncio.to_thread(self.sink, event)
            else:
                self.sink(event)
            self.status.events += 1
        except Exception:
            # One event the CRM could not store must not stop the telephony feed.
            self.status.sink_errors += 1
            log.exception("AMI: the sink failed on %s", event.event_id)

    def _report(self, connected: bool) -> None:
        self.status.connected = connected
        self.status.live_calls = len(self.correlator.calls)
        self.status.unknown_events = dict(self.correlator.unknown)
        self.status.at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.on_status(self.status)
