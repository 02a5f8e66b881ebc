"""Asterisk through its Manager Interface: actions out (this class), events in (listener.py).

Each action opens its own short AMI session (login with Events: off, the actions,
Logoff): the web process and the task workers share nothing with the long-running
`kartoteka asterisk listen`, and a session costs a few milliseconds on a LAN.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from django.utils.translation import gettext as _

from kartoteka.callcenter.providers.asterisk.config import AmiConfig
from kartoteka.callcenter.providers.asterisk.operators import OFFLINE_REASON
from kartoteka.callcenter.providers.asterisk.protocol import AmiConnection
from kartoteka.callcenter.providers.base import OperatorState, Provider, ProviderError

T = TypeVar("T")
# What a dial plan can take as a number: digits, a leading +, * and # for services.
_NUMBER = re.compile(r"\+?[0-9*#]{1,32}")
_FORMATTING = re.compile(r"[\s\-().]")
ORIGINATE_RING_MS = 30_000  # how long the operator's phone rings before Originate gives up


@dataclass(frozen=True)
class Step:
    """One action and the refusals that mean "already so" rather than failure."""

    fields: Mapping[str, str]
    harmless: tuple[str, ...] = ()


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, also when the calling thread already has a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class AsteriskProvider(Provider):
    code = "asterisk"
    name = "Asterisk (AMI)"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.ami = AmiConfig.from_mapping(config)

    # -- the contract -------------------------------------------------------------

    def originate(self, extension: str, number: str) -> None:
        extension = self._checked_extension(extension)
        number = _FORMATTING.sub("", number or "")
        if not _NUMBER.fullmatch(number):
            raise ProviderError(_("The number %(number)s cannot be dialled.") % {"number": number})
        self.run(
            [
                Step(
                    {
                        "Action": "Originate",
                        "Channel": self.ami.interface(extension),
                        "Context": self.ami.context,
                        "Exten": number,
                        "Priority": "1",
                        # What the operator's phone shows while it rings: whom it will call.
                        "CallerID": f'"{number}" <{number}>',
                        "Timeout": str(ORIGINATE_RING_MS),
                        "Async": "true",
                    }
                )
            ]
        )

    def set_state(
        self, extension: str, state: OperatorState, queue: str = "", reason: str = ""
    ) -> None:
        self.run(self.plan(extension, state, queue, reason))

    # -- building and running actions ---------------------------------------------------

    def plan(self, extension: str, state: OperatorState, queue: str, reason: str) -> list[Step]:
        """The AMI actions that put an operator into `state` in one queue or all configured."""
        interface = self.ami.interface(self._checked_extension(extension))
        queues: Sequence[str] = [queue] if queue else self.ami.queues
        if not queues:
            # Members written in queues.conf (static) cannot be added or removed over AMI,
            # only paused: "offline" is a pause that says so.
            paused = state != OperatorState.AVAILABLE
            pause = {"Action": "QueuePause", "Interface": interface, "Paused": str(paused).lower()}
            if paused:
                offline = state == OperatorState.OFFLINE
                pause["Reason"] = OFFLINE_REASON if offline else reason
            return [Step({k: v for k, v in pause.items() if v})]
        paused = state == OperatorState.PAUSED
        if state == OperatorState.OFFLINE:
            return [
                Step({"Action": "QueueRemove", "Queue": q, "Interface": interface}, ("Not there",))
                for q in queues
            ]
        steps = [
            Step(
                {
                    "Action": "QueueAdd",
                    "Queue": q,
                    "Interface": interface,
                    "MemberName": extension,
                    "Paused": "true" if paused else "false",
                },
                ("Already there",),
            )
            for q in queues
        ]
        pause = {"Action": "QueuePause", "Interface": interface, "Paused": str(paused).lower()}
        if paused and reason:
            pause["Reason"] = reason
        # Without a Queue, QueuePause applies to every queue the member is in.
        steps += [Step({**pause, "Queue": queue})] if queue else [Step(pause)]
        return steps

    def run(self, steps: Sequence[Step]) -> None:
        run_sync(self._session(steps))

    async def _session(self, steps: Sequence[Step]) -> None:
        conn = await AmiConnection.connect(self.ami)
        try:
            await conn.login(self.ami.username, self.ami.secret, events=False)
            for step in steps:
                response = await conn.action(step.fields, check=False)
                if response.get("Response", "").lower() == "success":
                    continue
                message = response.get("Message", "")
                if not any(text.lower() in message.lower() for text in step.harmless):
                    raise ProviderError(
                        _("The PBX refused %(action)s: %(message)s")
                        % {"action": step.fields["Action"], "message": message or "?"}
                    )
        finally:
            await conn.close(logoff=True)

    def _checked_extension(self, extension: str) -> str:
        extension = (extension or "").strip()
        if not self.ami.extension_pattern.fullmatch(extension):
            raise ProviderError(
                _("The extension %(extension)s is not an operator's extension.")
                % {"extension": extension}
            )
        return extension
