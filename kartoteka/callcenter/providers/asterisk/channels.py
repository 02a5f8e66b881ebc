"""Reading Asterisk channel names, interfaces and AMI field values."""

from __future__ import annotations

import datetime as dt
import re

# tech/resource with an optional "-0000000a" sequence (real channels) or "@context"
# and ";1" (Local channels): the resource is what a dial plan calls the extension.
_CHANNEL = re.compile(r"^(?P<tech>[A-Za-z0-9_]+)/(?P<resource>[^@/;]+)")
_SEQUENCE = re.compile(r"-[0-9a-fA-F]{6,}$")
DEFAULT_EXTENSION_PATTERN = r"[0-9]{2,6}"
UNKNOWN_NUMBERS = {"", "<unknown>", "s", "unknown", "anonymous"}


def resource(channel: str) -> str:
    """'PJSIP/101-0000000a' → '101'; 'Local/101@from-queue/n' → '101'; 'PJSIP/101' → '101'."""
    match = _CHANNEL.match(channel or "")
    if not match:
        return ""
    name = match["resource"]
    return _SEQUENCE.sub("", name) if match["tech"].lower() != "local" else name


def extension_of(channel: str, pattern: re.Pattern[str]) -> str:
    """The operator's extension behind a channel or interface, "" for a trunk or a number."""
    name = resource(channel)
    return name if name and pattern.fullmatch(name) else ""


def number(value: str | None) -> str:
    """A caller id as the PBX gave it; Asterisk's placeholders for none become ""."""
    value = (value or "").strip()
    return "" if value.lower() in UNKNOWN_NUMBERS else value


def timestamp(value: str | None) -> dt.datetime | None:
    """The "Timestamp: 1733443200.123456" field (timestampevents=yes in manager.conf)."""
    try:
        return dt.datetime.fromtimestamp(float(value or ""), tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None


def seconds(value: str | None) -> int:
    """A duration as AMI writes it: "83" or "00:01:23"."""
    total = 0
    try:
        for part in (value or "0").split(":"):
            total = total * 60 + int(part)
    except ValueError:
        return 0
    return max(total, 0)
