"""The voice menu over Asterisk FastAGI: `run_ivr(session, args)` walks a menu with the engine
and speaks through the AGI session the FastAGI server (providers/asterisk/agi.py) hands it.

    exten => _X.,1,AGI(agi://kartoteka:4573/ivr)
     same => n,GotoIf($["${KT_QUEUE}" = ""]?done)
     same => n,Queue(${KT_QUEUE})
     same => n(done),Hangup()

The menu is the active one answering the dialled number (agi_dnid, else agi_extension), or the
one whose id is the script's first argument. On routing the handler sets KT_QUEUE, and every
answer as IVR_<KEY> (IVR_MENU, IVR_PATH, IVR_DEAL, …), which the AMI listener copies onto the
call; the answers are also written on the call directly (Asterisk's call id is the Linkedid,
which for the inbound channel running the menu is its own agi_uniqueid).

Prompts: a node's sound file is played with barge-in; a node with text only is spoken by the
TTS application named in settings.IVR_TTS_APP (none by default); figures of self-service
answers are read with SayDigits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from asgiref.sync import sync_to_async
from django.conf import settings

from kartoteka.callcenter.providers.asterisk.agi import register
from kartoteka.ivr import crm, engine, runtime
from kartoteka.ivr.models import Menu

PROVIDER = "asterisk"
SILENCE = "silence/1"  # what get_data plays when a node has no sound file
QUEUE_VARIABLE = "KT_QUEUE"
MAX_STEPS = 200  # a caller pressing keys for ever is let go


class AgiSession(Protocol):
    env: dict[str, str]

    async def stream_file(self, name: str, escape_digits: str = "") -> str: ...

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> str: ...

    async def say_digits(self, digits: str) -> None: ...

    async def set_variable(self, name: str, value: str) -> None: ...

    async def exec(self, app: str, args: str) -> object: ...


def _variable(key: str) -> str:
    return "IVR_" + "".join(c if c.isascii() and c.isalnum() else "_" for c in key.upper())[:40]


def _menu(env: dict[str, str], args: Sequence[str]) -> Menu:
    first = args[0] if args else ""
    menu_id = int(first) if first.isascii() and first.isdigit() and len(first) < 18 else None
    dialled = env.get("agi_dnid", "")
    if not dialled or dialled == "unknown":
        dialled = env.get("agi_extension", "")
    return runtime.menu_for(dialled, menu_id)


class _Walk:
    """One call's way through a menu (the engine's state between AGI commands)."""

    def __init__(self, env: dict[str, str], args: Sequence[str]) -> None:
        self.menu = _menu(env, args)
        self.tree = runtime.load_tree(self.menu)
        self.caller = env.get("agi_callerid", "")
        self.callee = env.get("agi_dnid", "") or env.get("agi_extension", "")
        self.call_id = env.get("agi_uniqueid", "")

    def start(self) -> engine.Step:
        return engine.start(self.tree, crm.CRM, crm.caller_client(self.caller))

    def feed(self, state: engine.State, digits: str | None) -> engine.Step:
        return engine.feed(self.tree, crm.CRM, state, digits)

    def answers(self, state: engine.State) -> dict[str, str]:
        return runtime.answers(self.menu, self.tree, state)

    def record(self, state: engine.State) -> None:
        if self.call_id:
            runtime.record_on_call(
                PROVIDER,
                self.call_id,
                self.answers(state),
                caller=self.caller,
                callee=self.callee,
                client_id=state.client_id,
            )


async def _say(session: AgiSession, say: engine.Say) -> None:
    tts = str(getattr(settings, "IVR_TTS_APP", ""))
    if say.sound:
        await session.stream_file(say.sound)
    elif say.text and tts:
        await session.exec(tts, say.text.replace(",", " "))
    if say.digits:
        await session.say_digits(say.digits)


async def _perform(session: AgiSession, step: engine.Step) -> str | None:
    """Play the step's prompts; for a Collect, the digits pressed ("" on a timeout)."""
    actions = list(step.actions)
    prompt = SILENCE
    if isinstance(step.last, engine.Collect) and len(actions) > 1:
        before = actions[-2]
        if isinstance(before, engine.Say) and before.sound and not before.digits:
            prompt = before.sound  # played by get_data itself, so a key interrupts it
            actions.pop(-2)
    for action in actions:
        if isinstance(action, engine.Say):
            await _say(session, action)
        elif isinstance(action, engine.Collect):
            pressed = await session.get_data(prompt, action.timeout_s * 1000, action.max_digits)
            return "".join(c for c in (pressed or "") if c in engine.KEYS)
    return None


@register("ivr")
async def run_ivr(session: AgiSession, args: Sequence[str]) -> None:
    """Walk the menu for this channel until it routes or hangs up."""
    try:
        walk = await sync_to_async(_Walk)(dict(session.env), list(args))
    except runtime.NoMenu:
        await session.set_variable(QUEUE_VARIABLE, "")
        return
    step = await sync_to_async(walk.start)()
    try:
        for _turn in range(MAX_STEPS):
            pressed = await _perform(session, step)
            if pressed is None:
                break
            step = await sync_to_async(walk.feed)(step.state, pressed or None)
        else:
            step = engine.Step(step.state, (engine.Hangup(),))
    finally:
        # Also when the caller hangs up mid-menu (the session raises): the card shows how far.
        await sync_to_async(walk.record)(step.state)
    for key, value in walk.answers(step.state).items():
        await session.set_variable(_variable(key), value)
    final = step.last
    await session.set_variable(
        QUEUE_VARIABLE, final.queue if isinstance(final, engine.Route) else ""
    )
    if isinstance(final, engine.Hangup):
        await session.exec("Hangup", "")
