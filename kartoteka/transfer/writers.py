"""CSV and XLSX writers that neutralise spreadsheet formulas in every cell; vCard in vcard.py."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from kartoteka.transfer.vcard import vcard_response

# A cell starting with one of these is a formula to Excel and LibreOffice (CVE-2022-38844 class).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """CSV lines, UTF-8 with a BOM so that Excel reads Cyrillic correctly."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell("" if v is None else str(v)) for v in row])


def xlsx_file(header: list[str], rows: Iterable[list[Any]]) -> IO[bytes]:
    """The workbook in a temporary file; xlsxwriter keeps constant memory only when on disk."""
    import xlsxwriter

    target = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(target, options)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, header)
    for index, row in enumerate(rows, start=1):
        sheet.write_row(index, 0, [safe_cell("" if v is None else v) for v in row])
    book.close()
    target.seek(0)
    return target


def file_response(fmt: str, name: str, header: list[str], rows: Iterable[Any]) -> HttpResponseBase:
    """The export as a download: CSV streamed row by row, XLSX built in constant memory.

    For "vcf" the rows are vcard.Card objects, streamed one card at a time.
    """
    response: HttpResponseBase
    if fmt == "vcf":
        return vcard_response(name, rows)
    if fmt == "xlsx":
        response = FileResponse(
            xlsx_file(header, rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = StreamingHttpResponse(
            csv_stream(header, rows), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
