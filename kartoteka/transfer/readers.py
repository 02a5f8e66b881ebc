"""Reading an uploaded file for import: its header and its data rows, whatever the format.

The format comes from the content, not the name: CSV (UTF-8, Windows-1251 or KOI8-R; comma,
semicolon, tab or bar), XLSX, XLS, ODS or vCard. A file that cannot be read raises FileProblem
with a sentence for the user. Rows are read lazily, so the iterator can raise it too.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import quopri
import re
import struct
import zipfile
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeAlias, cast

import python_calamine as calamine
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

Cell: TypeAlias = str | int | float | bool | dt.date | dt.datetime | None
Rows: TypeAlias = Generator[tuple[int, list[Cell]], None, None]

SNIFF = 64 * 1024
SNIFF_CSV = 8 * 1024  # csv.Sniffer's regexes are quadratic on hostile input: 7 s on 64 KiB
CHUNK = 1 << 20
MAX_CELL = 100_000
MAX_UNPACKED, MAX_MEMBERS, MAX_RATIO, RATIO_FROM = 500 << 20, 10_000, 200, 10 << 20
ZIP, OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_TYPE = b"application/vnd.oasis.opendocument.spreadsheet"
DELIMITERS = ",;\t|"
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
ENCODING_NAMES = {"utf-8": "UTF-8", "cp1251": "Windows-1251", "koi8-r": "KOI8-R"}
EXPECTED = dict.fromkeys(TEXT_SUFFIXES, gettext_noop("a CSV file")) | {
    ".xlsx": gettext_noop("an Excel workbook (XLSX)"),
    ".xls": gettext_noop("an Excel 97-2003 workbook (XLS)"),
    ".ods": gettext_noop("an OpenDocument spreadsheet (ODS)"),
    ".vcf": gettext_noop("a vCard file"),
    ".vcard": gettext_noop("a vCard file"),
}
SIGNATURES = [
    (b"\x89PNG", gettext_noop("a PNG image")),
    (b"\xff\xd8\xff", gettext_noop("a JPEG image")),
    (b"GIF8", gettext_noop("a GIF image")),
    (b"%PDF", gettext_noop("a PDF document")),
    (b"PK", gettext_noop("a ZIP archive")),
]
VCARD_HEADERS = [
    *("Last name", "First name", "Middle name", "Full name", "Phone", "Phone 2", "Phone 3"),
    *("E-mail", "E-mail 2", "Company", "Position", "Birthday", "Address", "Note", "Website"),
]
# Two 2-byte UTF-8 letters in a row: in every Cyrillic UTF-8 line, next to never in 1-byte text.
UTF8_PAIR = re.compile(rb"[\xc2-\xdf][\x80-\xbf][\xc2-\xdf][\x80-\xbf]")
VCARD_LINE = re.compile(r'(?:[\w-]+\.)?([\w-]+)((?:;(?:"[^"]*"|[^";:])*)*):(.*)', re.S)
VCARD_ESCAPE = re.compile(r"\\([\\,;nN])")


class FileProblem(Exception):
    """The file cannot be read; `message` is a translated sentence for the user.

    It names the row when it is about a row; `row` is that row's number.
    """

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.message = message
        self.row = row


@dataclass
class Table:
    format: str  # "csv" | "xlsx" | "xls" | "ods" | "vcf"
    headers: list[str]  # stripped; "" for an empty header cell
    rows: Iterator[tuple[int, list[Cell]]]  # (row number in the file, or the card's ordinal)
    encoding: str | None = None  # csv, vcf
    delimiter: str | None = None  # csv


def open_table(path: Path, filename: str) -> Table:
    """The file's header and rows; FileProblem if it is not a table we can read."""
    with path.open("rb") as file:
        head = file.read(SNIFF)
    if not head:
        raise FileProblem(_("The file is empty."))
    fmt, looks_like = _detect(path, head)
    suffix = Path(filename).suffix.lower()
    # CSV is only the fallback for text, so it must not override a spreadsheet's extension.
    if fmt is None or (fmt == "csv" and suffix in EXPECTED and suffix not in TEXT_SUFFIXES):
        expected = EXPECTED.get(suffix, gettext_noop("a table (CSV, XLSX, XLS, ODS or vCard)"))
        raise FileProblem(
            _("This file is not %(expected)s: it looks like %(actual)s.")
            % {"expected": _(expected), "actual": looks_like}
        )
    if fmt == "csv":
        return _read_csv(path, head)
    if fmt == "vcf":
        encoding = _encoding(path)
        return _table(fmt, _cards(path, encoding), list(VCARD_HEADERS), encoding=encoding)
    return _table(fmt, _sheet_rows(_first_sheet(path)))


def _detect(path: Path, head: bytes) -> tuple[str | None, str]:
    """The format the content shows, or None and what the content looks like."""
    if head.startswith(ZIP):
        return _zip_format(path)
    if head.startswith(OLE):
        return "xls", ""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem(_("The file is in UTF-16. Save it as CSV in UTF-8 and upload it again."))
    for signature, name in SIGNATURES:
        if head.startswith(signature):
            return None, _(name)
    if b"\0" in head:
        return None, _("a binary file, not text")
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    return ("vcf" if text[:11].upper() == b"BEGIN:VCARD" else "csv"), _("a text file")


def _table(fmt: str, rows: Rows, headers: list[str] | None = None, **extra: str) -> Table:
    """Reads the header and the first row now, so that such files fail at once."""
    try:
        if headers is None:
            first = next(rows, None)
            if first is None:
                raise FileProblem(_("The file is empty."))
            headers = ["" if cell is None else str(cell).strip() for cell in first[1]]
        second = next(rows, None)
        if second is None and fmt == "vcf":
            raise FileProblem(_("The file has no contacts."))
        if second is None:
            raise FileProblem(_("The file has a header but no rows."))
    except FileProblem:
        rows.close()
        raise
    return Table(fmt, headers, itertools.chain([second], rows), **extra)


# CSV


def _read_csv(path: Path, head: bytes) -> Table:
    encoding = _encoding(path)
    lines = head[:SNIFF_CSV].decode(encoding, errors="replace").splitlines(keepends=True)
    cut = len(head) > SNIFF_CSV and len(lines) > 1  # then the last line may be partial
    delimiter = _delimiter("".join(lines[: min(20, len(lines) - cut)]))
    rows = _csv_rows(path, encoding, delimiter)
    return _table("csv", rows, encoding=encoding, delimiter=delimiter)


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Rows:
    csv.field_size_limit(MAX_CELL)  # process-wide; nothing here reads longer cells
    with io.TextIOWrapper(path.open("rb"), encoding, errors="replace", newline="") as text:
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        start = 1  # the line the next record starts on; it may span lines within quotes
        try:
            for row in cast(Iterator[list[str]], reader):
                if "".join(row).strip():  # in C, unlike a test per cell
                    yield start, cast(list[Cell], row)
                start = reader.line_num + 1
        except csv.Error as error:
            # A cell over the limit on one line is long; across lines, a quote never closed.
            if "field limit" in str(error) and reader.line_num == start:
                message = _("Row %(row)s has a cell of more than 100,000 characters.")
            else:
                message = _('Row %(row)s has a quote (") that is not closed properly.')
            raise FileProblem(message % {"row": start}, start) from None


def _delimiter(sample: str) -> str:
    header = next((line for line in sample.splitlines() if line.strip()), "")
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = ""
    return found if found and found in header else max(DELIMITERS, key=header.count)


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    """The file in ~1 MiB pieces that end at a line end, so no character is cut."""
    while chunk := file.read(CHUNK):
        yield chunk + file.readline()


def _encoding(path: Path) -> str:
    """UTF-8 if every line is; else Windows-1251 or KOI8-R; a file that mixes them is refused."""
    with path.open("rb") as file:
        bom = file.read(3) == codecs.BOM_UTF8
        file.seek(3 if bom else 0)
        line, utf8_seen = 1, bom
        for chunk in _chunks(file):
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError as error:
                bad = chunk.rfind(b"\n", 0, error.start) + 1
                bad_line = line + chunk.count(b"\n", 0, bad)
                if utf8_seen or not chunk[:bad].isascii():
                    raise _mixed(bad_line, "utf-8") from None
                return _single_byte(file, chunk[bad:], bad_line)
            utf8_seen = utf8_seen or not chunk.isascii()
            line += chunk.count(b"\n")
    return "utf-8-sig" if bom else "utf-8"


def _single_byte(file: IO[bytes], rest: bytes, line: int) -> str:
    """The Russian 1-byte encoding `rest` is in; refused if a later line is UTF-8."""
    sample = rest[:SNIFF]
    # The encoding in which the sample has more of the commonest Russian letters.
    encoding = max(
        ("cp1251", "koi8-r"),
        key=lambda name: sum(map(sample.decode(name, "replace").count, "оеаинтсрвл")),
    )
    for chunk in itertools.chain([rest], _chunks(file)):
        pos = 0
        while found := UTF8_PAIR.search(chunk, pos):
            start = chunk.rfind(b"\n", 0, found.start()) + 1
            pos = chunk.find(b"\n", found.end()) + 1 or len(chunk)
            try:
                chunk[start:pos].decode("utf-8")
            except UnicodeDecodeError:
                continue
            raise _mixed(line + chunk.count(b"\n", 0, start), encoding)
        line += chunk.count(b"\n")
    return encoding


def _mixed(row: int, encoding: str) -> FileProblem:
    message = _(
        "Row %(row)s is not in the file's encoding (%(encoding)s): the file mixes encodings. "
        "Save it again in one encoding."
    )
    return FileProblem(message % {"row": row, "encoding": ENCODING_NAMES[encoding]}, row)


# Spreadsheets


def _zip_format(path: Path) -> tuple[str | None, str]:
    """XLSX or ODS once the archive is safe to unpack, or what other archive it is."""
    damaged = FileProblem(_("The file is damaged or too large when unpacked."))
    if _zip_entries(path) > MAX_MEMBERS:  # before zipfile builds one object per entry
        raise damaged
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED:
                raise damaged
            if any(m.file_size > max(RATIO_FROM, MAX_RATIO * m.compress_size) for m in members):
                raise damaged
            names = {m.filename for m in members}
            with archive.open("mimetype") if "mimetype" in names else io.BytesIO() as mime:
                fmt = "ods" if mime.read(len(ODS_TYPE) + 2).strip() == ODS_TYPE else None
            if fmt is None and "xl/workbook.xml" not in names:
                return None, _("a ZIP archive, not a spreadsheet")
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    _check_xml(archive, member, damaged)
            return fmt or "xlsx", ""
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as error:
        raise damaged from error


def _zip_entries(path: Path) -> int:
    """The entry count the archive's end record claims (zip64 claims 0xFFFF)."""
    with path.open("rb") as file:
        file.seek(max(0, path.stat().st_size - 22 - 0xFFFF))
        tail = file.read()
    end = tail.rfind(b"PK\x05\x06")
    return struct.unpack_from("<H", tail, end + 10)[0] if 0 <= end <= len(tail) - 22 else 0


def _check_xml(archive: zipfile.ZipFile, member: zipfile.ZipInfo, damaged: FileProblem) -> None:
    """No DTD (entities expand into bombs or read local files) before the root element."""
    with archive.open(member) as file:
        head = file.read(4096).replace(b"\0", b"").upper()  # UTF-16 XML too
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise FileProblem(_("The file contains XML entity declarations, which are not allowed."))
    if head.strip() and not re.search(rb"<[A-Z_]", head):  # the DTD could hide past 4 KiB
        raise damaged


def _first_sheet(path: Path) -> calamine.CalamineSheet:
    """The first visible worksheet with data."""
    try:
        with path.open("rb") as file:
            book = calamine.CalamineWorkbook.from_filelike(file)
        for meta in book.sheets_metadata:
            visible = meta.visible == calamine.SheetVisibleEnum.Visible
            if visible and meta.typ == calamine.SheetTypeEnum.WorkSheet:
                sheet = book.get_sheet_by_name(meta.name)
                if sheet.start is not None:  # iter_rows() panics on an empty sheet
                    return sheet
    except calamine.PasswordError as error:
        raise FileProblem(_("The spreadsheet is protected with a password.")) from error
    except BaseException as error:
        # A panic in calamine's Rust code arrives as PanicException, a BaseException.
        if not isinstance(error, Exception) and type(error).__name__ != "PanicException":
            raise
        message = _("The spreadsheet cannot be read: %(error)s") % {"error": error}
        raise FileProblem(message) from error
    raise FileProblem(_("The file is empty."))


def _sheet_rows(sheet: calamine.CalamineSheet) -> Rows:
    # iter_rows() starts from the sheet's first row even when it is empty, so numbers are true.
    for number, values in enumerate(sheet.iter_rows(), start=1):
        row = [_cell(value) for value in values]
        if any(cell.strip() if isinstance(cell, str) else True for cell in row):
            yield number, row


def _cell(value: object) -> Cell:
    if isinstance(value, float) and value.is_integer():
        return int(value)  # XLSX stores every number as a float: phone 79161234567.0
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return cast(Cell, value)


# vCard


def _cards(path: Path, encoding: str) -> Rows:
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    number, card = 0, cast(dict[str, list[str]] | None, None)
    with io.TextIOWrapper(path.open("rb"), encoding, errors="replace") as text:
        for line in _unfold(text):
            match = VCARD_LINE.match(line)
            if not match:
                continue
            name, params, value = match[1].upper(), match[2].upper(), match[3]
            if name == "BEGIN" and value.strip().upper() == "VCARD":
                if card is not None:
                    raise _unfinished(number)
                number, card = number + 1, {}
            elif name == "END" and card is not None:
                row = _card_row(card)
                if any(row):
                    yield number, row
                card = None
            elif card is not None:
                card.setdefault(name, []).append(_vcard_value(value, params, codec))
    if card is not None:
        raise _unfinished(number)


def _unfold(lines: Iterable[str]) -> Iterator[str]:
    """Logical lines: a folded line goes on after a space; a quoted-printable one after "="."""
    current = None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if current is None:
            current = line
        elif current.endswith("=") and "QUOTED-PRINTABLE" in current.split(":", 1)[0].upper():
            current = current[:-1] + line
        elif line[:1] in (" ", "\t"):
            current += line[1:]
        else:
            yield current
            current = line
    if current is not None:
        yield current


def _vcard_value(value: str, params: str, codec: str) -> str:
    if "QUOTED-PRINTABLE" not in params:
        return value
    charset = re.search(r'CHARSET="?([\w.:-]+)', params)
    raw = quopri.decodestring(value.encode(codec, "replace"))
    try:
        return raw.decode(charset[1] if charset else codec, "replace")
    except LookupError:
        return raw.decode(codec, "replace")


def _parts(value: str) -> list[str]:
    """A structured value's components: split at each ";" not escaped, then unescaped."""
    protected = value.replace("\\\\", "\0")  # now a "\" before ";" always escapes it
    return [_text(part.replace("\0", "\\\\")) for part in re.split(r"(?<!\\);", protected)]


def _text(value: str) -> str:
    return VCARD_ESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], value)


def _card_row(card: dict[str, list[str]]) -> list[Cell]:
    first = {name: values[0] for name, values in card.items()}
    names = [*_parts(first.get("N", "")), "", "", ""][:3]
    phones = [re.sub(r"^tel:", "", _text(v), flags=re.I) for v in card.get("TEL", [])]
    emails = [_text(v) for v in card.get("EMAIL", [])]
    address = ", ".join(part.strip() for part in _parts(first.get("ADR", "")) if part.strip())
    text = [_text(first.get(name, "")) for name in ("FN", "TITLE", "BDAY", "NOTE", "URL")]
    company = _parts(first.get("ORG", ""))[0]
    phones, emails = [*phones, "", "", ""][:3], [*emails, "", ""][:2]
    return [*names, text[0], *phones, *emails, company, *text[1:3], address, *text[3:]]


def _unfinished(number: int) -> FileProblem:
    message = _("Card %(row)s has no END:VCARD line: the file is cut short or damaged.")
    return FileProblem(message % {"row": number}, number)
