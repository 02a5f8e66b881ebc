"""`python -m bench.asterisk [--calls 5000]`: how fast AMI is read and correlated.

The recorded queue call (tests/callcenter/asterisk/streams/queue_call.ami: 19 AMI messages,
5 call events out) is repeated N times with fresh Uniqueids/Linkedids, as one byte stream.
Measured in one process as CPU time (best of 3): the Framer cutting the bytes into messages,
compared with a bare `split` on the same bytes (the least any parser must do), and the
Correlator turning the messages into normalized events. A busy contact centre sends some
hundreds of AMI events a second; this says how far from that the reader is. Prints a table.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STREAM = Path(__file__).parent.parent / "tests/callcenter/asterisk/streams/queue_call.ami"


def build(calls: int) -> bytes:
    text = STREAM.read_bytes()
    banner, _, rest = text.partition(b"\r\n")
    _login, _, events = rest.partition(b"\r\n\r\n")
    parts = [banner + b"\r\n"]
    for n in range(calls):
        parts.append(
            events.replace(b"1733443200.11", f"1733443200.{n + 100000}".encode()).replace(
                b"1733443210.12", f"1733443210.{n + 100000}".encode()
            )
        )
    return b"".join(parts)


def best(run: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.process_time()  # CPU time: the machine is shared, wall time is not ours
        result = run()
        times.append(time.process_time() - started)
    return min(times), result


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    import django

    django.setup()
    from kartoteka.callcenter.providers.asterisk.correlate import Correlator
    from kartoteka.callcenter.providers.asterisk.protocol import Framer

    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5_000)
    args = parser.parse_args()
    data = build(args.calls)

    def frame() -> list[dict[str, str]]:
        framer = Framer()
        out: list[dict[str, str]] = []
        for start in range(0, len(data), 65536):  # as the socket hands it over
            out += framer.feed(data[start : start + 65536])
        return out

    def bare_split() -> int:
        return sum(1 for block in data.split(b"\r\n\r\n") if block.split(b"\r\n"))

    framed_s, messages = best(frame)
    split_s, _count = best(bare_split)

    def correlate() -> int:
        correlator = Correlator()
        return sum(len(correlator.feed(m)) for m in messages)

    correlate_s, events = best(correlate)
    mb = len(data) / 1e6
    print(f"{args.calls} calls, {len(messages)} AMI messages, {mb:.1f} MB, {events} call events\n")
    print("| step | CPU seconds | AMI messages/s | MB/s |")
    print("|---|---|---|---|")
    for name, seconds in [
        ("bare split on CRLF CRLF (floor)", split_s),
        ("Framer (messages as dicts)", framed_s),
        ("Correlator", correlate_s),
        ("Framer + Correlator", framed_s + correlate_s),
    ]:
        print(f"| {name} | {seconds:.2f} | {len(messages) / seconds:,.0f} | {mb / seconds:.1f} |")
    print(f"\nFramer / bare split: {framed_s / split_s:.1f}×")


if __name__ == "__main__":
    main()
