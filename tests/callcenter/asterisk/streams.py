"""The recorded AMI streams in streams/*.ami, read back for the tests."""

from __future__ import annotations

from pathlib import Path

from kartoteka.callcenter.providers.asterisk.config import AmiConfig
from kartoteka.callcenter.providers.asterisk.correlate import Correlator
from kartoteka.callcenter.providers.asterisk.protocol import Framer, Message
from kartoteka.callcenter.providers.base import Event

STREAMS = Path(__file__).parent / "streams"


def raw(name: str) -> bytes:
    return (STREAMS / f"{name}.ami").read_bytes()


def messages(name: str, banner: bool = True) -> list[Message]:
    return Framer(expect_banner=banner).feed(raw(name))


def events_of(name: str, correlator: Correlator | None = None) -> list[Event]:
    """Every normalized event a recorded stream yields, fed straight into a correlator."""
    correlator = correlator or Correlator(AmiConfig())
    out: list[Event] = []
    for message in messages(name):
        out += correlator.feed(message)
    return out


def summary(events: list[Event]) -> list[tuple[str, ...]]:
    """(kind or state, extension, queue) per event: what a test compares."""
    return [
        (getattr(e, "kind", None) or getattr(e, "state", ""), e.extension, e.queue) for e in events
    ]
