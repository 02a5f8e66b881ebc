"""vCard 3.0 (RFC 2426, escaping and folding as RFC 6350 words them) for exports of persons.

Every text value is escaped so that no value can end its line and start a property of its own;
lines are folded at 75 octets on UTF-8 character boundaries and end with CRLF.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.http import StreamingHttpResponse

CONTENT_TYPE = "text/vcard; charset=utf-8"
LINE_OCTETS = 75
CRLF = "\r\n"

# Contact kinds as vCard TEL types: address books file a "mobile" number under CELL.
PHONE_TYPES = {"mobile": "CELL", "work": "WORK", "home": "HOME", "fax": "FAX", "other": "VOICE"}

# Anything a reader may take for the end of a line becomes the two characters "\n".
_LINE_BREAK = re.compile("\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# Other control characters have no place in a text value (a tab does).
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_SPECIAL = re.compile(r"([\\,;])")


@dataclass(frozen=True)
class Card:
    """One person as the export may show them: hidden fields are already left empty."""

    uid: str
    full_name: str
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    phones: list[tuple[str, str]] = field(default_factory=list)  # (contact kind, E.164)
    emails: list[str] = field(default_factory=list)
    org: str = ""
    title: str = ""
    birthday: dt.date | None = None
    address: str = ""
    note: str = ""


def escape(value: object) -> str:
    """A text value with backslash, comma, semicolon and line breaks escaped."""
    text = _SPECIAL.sub(r"\\\1", "" if value is None else str(value))
    return _CONTROL.sub("", _LINE_BREAK.sub(r"\\n", text))


def fold(line: str) -> str:
    """`line` with CRLF ends, folded so that no physical line is longer than 75 octets."""
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            parts.append("".join(current))
            # A continuation line starts with a space, which counts towards its 75 octets.
            current, size, limit = [], 0, LINE_OCTETS - 1
        current.append(char)
        size += octets
    parts.append("".join(current))
    return (CRLF + " ").join(parts) + CRLF


def lines_of(card: Card) -> list[str]:
    """The card's content lines, unfolded."""
    name = ";".join(escape(p) for p in (card.last_name, card.first_name, card.middle_name))
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"N:{name};;", f"FN:{escape(card.full_name)}"]
    lines += [
        f"TEL;TYPE={PHONE_TYPES.get(kind, 'VOICE')}:{escape(number)}"
        for kind, number in card.phones
    ]
    lines += [f"EMAIL;TYPE=INTERNET:{escape(email)}" for email in card.emails]
    if card.org:
        lines.append(f"ORG:{escape(card.org)}")
    if card.title:
        lines.append(f"TITLE:{escape(card.title)}")
    if card.birthday:
        lines.append(f"BDAY:{card.birthday.isoformat()}")
    if card.address:
        lines.append(f"ADR;TYPE=HOME:;;{escape(card.address)};;;;")
    if card.note:
        lines.append(f"NOTE:{escape(card.note)}")
    lines += [f"UID:{escape(card.uid)}", "END:VCARD"]
    return lines


def card_text(card: Card) -> str:
    return "".join(fold(line) for line in lines_of(card))


def vcard_stream(cards: Iterable[Card]) -> Iterator[bytes]:
    for card in cards:
        yield card_text(card).encode("utf-8")


def vcard_response(name: str, cards: Iterable[Card]) -> StreamingHttpResponse:
    """The cards as a download, streamed one by one."""
    response = StreamingHttpResponse(vcard_stream(cards), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.vcf"'
    return response
