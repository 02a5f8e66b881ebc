"""Files to import, built in a test's tmp_path: good ones in every format and hostile ones."""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

MB = 1 << 20


def write_bytes(tmp_path: Path, data: bytes, name: str = "clients.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def write_csv(
    tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "clients.csv"
) -> Path:
    """The text as it is (no newline translation) in the encoding; "utf-8-sig" adds the BOM."""
    return write_bytes(tmp_path, text.encode(encoding), name)


def write_vcf(
    tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "contacts.vcf"
) -> Path:
    """Lines joined with CRLF as the RFCs say; write_vcf(tmp_path, vcard(...)) for a simple card."""
    crlf = "\r\n".join(text.strip("\n").split("\n")) + "\r\n"
    return write_bytes(tmp_path, crlf.encode(encoding), name)


def vcard(*lines: str, version: str = "3.0") -> str:
    return "\n".join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD"])


def write_xlsx(
    tmp_path: Path,
    rows: Sequence[Sequence[Any]],
    name: str = "clients.xlsx",
    hidden_first_sheet: bool = False,
) -> Path:
    """Rows from A1; None leaves a cell empty; dates, datetimes and times get a format."""
    import xlsxwriter

    path = tmp_path / name
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    if hidden_first_sheet:
        book.add_worksheet("Hidden").write_row(0, 0, ["Secret", "Do not import"])
        book.worksheets()[0].hide()
    sheet = book.add_worksheet("Clients")
    sheet.activate()
    formats = {
        dt.datetime: book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        dt.date: book.add_format({"num_format": "yyyy-mm-dd"}),
        dt.time: book.add_format({"num_format": "hh:mm"}),
    }
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date | dt.time):
                sheet.write_datetime(r, c, value, formats[type(value)])
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    return path


def _ods_cell(value: Any) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool):
        attrs = f'office:value-type="boolean" office:boolean-value="{str(value).lower()}"'
    elif isinstance(value, int | float):
        attrs = f'office:value-type="float" office:value="{value}"'
    elif isinstance(value, dt.date):
        attrs = f'office:value-type="date" office:date-value="{value.isoformat()}"'
    else:
        attrs = 'office:value-type="string"'
    return f"<table:table-cell {attrs}><text:p>{escape(str(value))}</text:p></table:table-cell>"


def write_ods(tmp_path: Path, rows: Sequence[Sequence[Any]], name: str = "clients.ods") -> Path:
    """A minimal OpenDocument spreadsheet, as LibreOffice would read it."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    body = "".join(
        "<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>"
        for row in rows
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
        'office:version="1.2"><office:body><office:spreadsheet>'
        f'<table:table table:name="Clients">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", manifest)
        zf.writestr("content.xml", content)
    return path


def _record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _biff_cell(r: int, c: int, value: Any) -> bytes:
    if isinstance(value, bool):
        return _record(0x0205, struct.pack("<HHHBB", r, c, 0, int(value), 0))
    if isinstance(value, int | float):
        return _record(0x0203, struct.pack("<HHHd", r, c, 0, float(value)))
    text = str(value).encode("utf-16-le")
    return _record(0x0204, struct.pack("<HHHHB", r, c, 0, len(text) // 2, 1) + text)


def _biff_workbook(rows: Sequence[Sequence[Any]]) -> bytes:
    """A BIFF8 workbook stream with one sheet: strings, numbers and booleans only."""
    name = b"Clients"

    def sheet_entry(pos: int) -> bytes:
        return _record(0x0085, struct.pack("<IBBBB", pos, 0, 0, len(name), 0) + name)

    head = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0))
    head += _record(0x0042, struct.pack("<H", 1200))
    pos = len(head) + len(sheet_entry(0)) + 4
    globals_ = head + sheet_entry(pos) + _record(0x000A, b"")
    cells = b"".join(
        _biff_cell(r, c, v)
        for r, row in enumerate(rows)
        for c, v in enumerate(row)
        if v is not None
    )
    sheet = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0, 0, 0, 0))
    return globals_ + sheet + cells + _record(0x000A, b"")


def write_xls(tmp_path: Path, rows: Sequence[Sequence[Any]], name: str = "clients.xls") -> Path:
    """An Excel 97-2003 file: the BIFF8 stream in a minimal OLE2 (compound file) container."""
    end, free, none = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF
    stream = _biff_workbook(rows)
    size = max(4096, -(-len(stream) // 512) * 512)  # 4096+ keeps it out of the mini stream
    stream = stream.ljust(size, b"\0")
    sectors = size // 512
    assert sectors < 126, "one FAT sector only"
    fat = [0xFFFFFFFD, end, *range(3, 2 + sectors), end]
    fat_sector = struct.pack("<128I", *(fat + [free] * (128 - len(fat))))

    def entry(name: str, kind: int, child: int, start: int, length: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB3I", len(encoded), kind, 1, none, none, child)
            + bytes(36)
            + struct.pack("<IQ", start, length)
        )

    directory = entry("Root Entry", 5, 1, end, 0) + entry("Workbook", 2, none, 2, size)
    directory += entry("", 0, none, 0, 0) * 2
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
    header += struct.pack("<5H6x7I", 0x3E, 3, 0xFFFE, 9, 6, 0, 1, 1, 0, 4096, end, 0)
    header += struct.pack("<II", end, 0) + struct.pack("<109I", 0, *[free] * 108)
    return write_bytes(tmp_path, header + fat_sector + directory + stream, name)


def _rewrite_zip(path: Path, replace: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    members.update(replace)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)


def xlsx_with_external_entity(tmp_path: Path, name: str = "clients.xlsx") -> Path:
    """A real workbook whose shared strings declare an entity that reads /etc/passwd (XXE)."""
    path = write_xlsx(tmp_path, [["Name"], ["PLACEHOLDER"]], name)
    with zipfile.ZipFile(path) as zf:
        strings = zf.read("xl/sharedStrings.xml").decode()
    declaration, rest = strings.split("?>", 1)
    doctype = '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    hostile = declaration + "?>" + doctype + rest.replace("PLACEHOLDER", "&xxe;")
    _rewrite_zip(path, {"xl/sharedStrings.xml": hostile.encode()})
    return path


def zip_bomb(
    tmp_path: Path, megabytes: int = 600, name: str = "clients.xlsx", claim_only: bool = True
) -> Path:
    """A real workbook plus a member that unpacks to `megabytes`.

    By default the member is empty and the zip's directory claims the size: as fast as a small
    file, and what a bomb looks like to a reader that checks before unpacking. With
    claim_only=False it holds real zeros, deflated ~1000:1 (20 MB takes ~0.1 s to write).
    """
    path = write_xlsx(tmp_path, [["Name"], ["Ann"]], name)
    member = "xl/media/zeros.bin"
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open(member, "w") as out,
    ):
        for _ in range(0 if claim_only else megabytes):
            out.write(bytes(MB))
    if claim_only:
        data = path.read_bytes()
        entry = data.rindex(b"PK\x01\x02")  # the last central directory entry: ours
        assert data[entry + 46 : entry + 46 + len(member)] == member.encode()
        sizes = struct.pack("<I", megabytes * MB)
        path.write_bytes(data[: entry + 24] + sizes + data[entry + 28 :])
    return path


def zip_with_members(tmp_path: Path, count: int, name: str = "clients.xlsx") -> Path:
    """A real workbook plus `count` empty members."""
    path = write_xlsx(tmp_path, [["Name"], ["Ann"]], name)
    with zipfile.ZipFile(path, "a") as zf:
        for number in range(count):
            zf.writestr(f"xl/media/{number}.bin", b"")
    return path
