"""Reading uploads for import: formats by content, encodings, delimiters, and hostile files."""

from __future__ import annotations

import datetime as dt
import time
import zipfile
from pathlib import Path

import pytest

from kartoteka.transfer.readers import FileProblem, Table, open_table
from tests.transfer.files import (
    MB,
    vcard,
    write_bytes,
    write_csv,
    write_ods,
    write_vcf,
    write_xls,
    write_xlsx,
    xlsx_with_external_entity,
    zip_bomb,
    zip_with_members,
)

RUSSIAN = "Фамилия;Имя;Город\nИванова;Ольга;Москва\nПетров;Семён;Тверь\n"


def rows(table: Table) -> list[tuple[int, list]]:
    return list(table.rows)


def problem(path: Path, filename: str | None = None) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        table = open_table(path, filename or path.name)
        rows(table)
    return caught.value


# CSV


def test_csv_gives_header_rows_and_their_numbers(tmp_path):
    table = open_table(write_csv(tmp_path, " Name ,Phone\nAnn,+7 916\nBob,\n"), "clients.csv")
    assert (table.format, table.encoding, table.delimiter) == ("csv", "utf-8", ",")
    assert table.headers == ["Name", "Phone"]
    assert rows(table) == [(2, ["Ann", "+7 916"]), (3, ["Bob", ""])]


def test_csv_with_bom_is_utf8_sig_and_the_bom_is_not_in_the_header(tmp_path):
    table = open_table(write_csv(tmp_path, "Имя,Телефон\nОля,1\n", "utf-8-sig"), "c.csv")
    assert table.encoding == "utf-8-sig"
    assert table.headers == ["Имя", "Телефон"]


@pytest.mark.parametrize("encoding", ["cp1251", "koi8-r"])
def test_csv_in_a_russian_single_byte_encoding_is_recognised(tmp_path, encoding):
    table = open_table(write_csv(tmp_path, RUSSIAN, encoding), "clients.csv")
    assert table.encoding == encoding
    assert table.headers == ["Фамилия", "Имя", "Город"]
    assert rows(table)[1] == (3, ["Петров", "Семён", "Тверь"])


def test_csv_mixing_utf8_with_cp1251_names_the_first_foreign_row(tmp_path):
    data = "Имя,Город\nОля,Москва\n".encode() + "Петя,Тверь\n".encode("cp1251")
    error = problem(write_bytes(tmp_path, data))
    assert error.row == 3
    assert error.message == (
        "Row 3 is not in the file's encoding (UTF-8): the file mixes encodings. "
        "Save it again in one encoding."
    )


def test_csv_mixing_cp1251_with_utf8_names_the_utf8_row(tmp_path):
    data = "Name,City\n1,Москва\n2,Тверь\n".encode("cp1251") + "3,Казань\n".encode()
    error = problem(write_bytes(tmp_path, data))
    assert error.row == 4
    assert "(Windows-1251)" in error.message


def test_csv_with_bom_and_cp1251_rows_is_mixed(tmp_path):
    data = "\ufeffName\n".encode() + "Оля\n".encode("cp1251")
    assert problem(write_bytes(tmp_path, data)).row == 2


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiter_is_detected(tmp_path, delimiter):
    text = "\n".join(delimiter.join(row) for row in [["a", "b", "c"], ["1", "2,5", "x"]] * 3)
    table = open_table(write_csv(tmp_path, text.replace("2,5", '"2,5"')), "c.txt")
    assert table.delimiter == delimiter
    assert table.headers == ["a", "b", "c"]
    assert rows(table)[0] == (2, ["1", "2,5", "x"])


def test_csv_delimiter_falls_back_to_the_header_line(tmp_path):
    one_column = open_table(write_csv(tmp_path, "Phone\n+7 916 000\n"), "c.csv")
    assert one_column.delimiter == ","
    table = open_table(write_csv(tmp_path, "Name;Phone\nAnn\n", name="d.csv"), "d.csv")
    assert table.delimiter == ";"


def test_quoted_newlines_keep_row_numbers_true_to_the_file(tmp_path):
    text = 'Name,Note\r\nAnn,"two\r\nlines"\r\nBob,"say ""hi"""\r\n'
    table = open_table(write_csv(tmp_path, text), "c.csv")
    assert rows(table) == [(2, ["Ann", "two\r\nlines"]), (4, ["Bob", 'say "hi"'])]


def test_unclosed_quote_names_its_row(tmp_path):
    error = problem(write_csv(tmp_path, 'Name,Note\nAnn,x\nBob,"never closed\nCid,y\n'))
    assert (error.row, error.message) == (3, 'Row 3 has a quote (") that is not closed properly.')


def test_unclosed_quote_in_a_big_file_names_its_row_not_a_long_cell(tmp_path):
    text = "Name,Note\nAnn,x\n" + 'Bob,"oops\n' + "Cid,y\n" * 50_000
    assert problem(write_csv(tmp_path, text)).message.startswith("Row 3 has a quote")


def test_text_after_a_closing_quote_is_broken_quoting(tmp_path):
    assert problem(write_csv(tmp_path, 'Name,Note\n"Acme" Ltd,x\n')).row == 2


def test_a_cell_over_100000_characters_names_its_row(tmp_path):
    ok = open_table(write_csv(tmp_path, "Note\n" + "x" * 100_000 + "\n"), "c.csv")
    assert len(rows(ok)[0][1][0]) == 100_000
    error = problem(write_csv(tmp_path, "Note\nx\n" + "y" * 100_001 + "\n", name="d.csv"))
    assert error.row == 3
    assert error.message == "Row 3 has a cell of more than 100,000 characters."


def test_rows_are_read_lazily_so_a_late_problem_comes_from_the_iterator(tmp_path):
    text = "Name\n" + "Ann\n" * 1000 + "y" * 100_001 + "\n"
    table = open_table(write_csv(tmp_path, text), "c.csv")
    assert not isinstance(table.rows, list)
    assert next(table.rows) == (2, ["Ann"])
    with pytest.raises(FileProblem, match="Row 1002 "):
        list(table.rows)


@pytest.mark.parametrize("content", [b"", b"\n\n \n", "\ufeff".encode(), b",,\n,\n"])
def test_empty_file(tmp_path, content):
    assert problem(write_bytes(tmp_path, content)).message == "The file is empty."


@pytest.mark.parametrize("text", ["Name,Phone\n", "Name,Phone", "\nName,Phone\n,\n\n"])
def test_header_without_rows(tmp_path, text):
    assert problem(write_csv(tmp_path, text)).message == "The file has a header but no rows."


def test_empty_rows_are_skipped_and_numbers_stay_true(tmp_path):
    table = open_table(write_csv(tmp_path, "\nName,Phone\n\nAnn,1\n,\nBob,2\n"), "c.csv")
    assert table.headers == ["Name", "Phone"]
    assert rows(table) == [(4, ["Ann", "1"]), (6, ["Bob", "2"])]


def test_ragged_rows_are_given_as_they_are(tmp_path):
    table = open_table(write_csv(tmp_path, "a,b,c\n1\n1,2,3,4\n"), "c.csv")
    assert rows(table) == [(2, ["1"]), (3, ["1", "2", "3", "4"])]


# Format by content


def test_format_comes_from_the_content_not_the_extension(tmp_path):
    xlsx = write_xlsx(tmp_path, [["Name"], ["Ann"]], name="upload")
    assert open_table(xlsx, "clients.csv").format == "xlsx"
    assert open_table(write_csv(tmp_path, "Name\nAnn\n", name="x.dat"), "x.dat").format == "csv"
    card = write_vcf(tmp_path, vcard("FN:Ann"), name="c.txt")
    assert open_table(card, "contacts.txt").format == "vcf"


PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (PNG, "a.xlsx", "This file is not an Excel workbook (XLSX): it looks like a PNG image."),
        (b"%PDF-1.7\n...", "a.csv", "This file is not a CSV file: it looks like a PDF document."),
        (b"a,b\x00\x01\x02", "a.csv", "This file is not a CSV file: it looks like a binary file"),
        (b"Name,Phone\nAnn,1\n", "a.xlsx", "This file is not an Excel workbook (XLSX): it looks"),
        (b"Name,Phone\nAnn,1\n", "a.vcf", "This file is not a vCard file: it looks like a text"),
        (PNG, "a.bin", "This file is not a table (CSV, XLSX, XLS, ODS or vCard): it looks like"),
        (b"\xff\xfeN\x00a\x00", "a.csv", "The file is in UTF-16."),
    ],
)
def test_content_that_does_not_match_the_extension(tmp_path, content, filename, message):
    assert problem(write_bytes(tmp_path, content), filename).message.startswith(message)


def test_a_zip_that_is_not_a_spreadsheet(tmp_path):
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    assert problem(path).message == (
        "This file is not an Excel workbook (XLSX): it looks like a ZIP archive, not a spreadsheet."
    )


# Spreadsheets


def test_xlsx_keeps_cell_types(tmp_path):
    when = dt.datetime(2024, 3, 5, 14, 30)
    path = write_xlsx(
        tmp_path,
        [
            [" Name ", "Phone", "Sum", "Active", "Born", "Seen", "At"],
            ["Ann", 79161234567, 12.5, True, dt.date(1990, 1, 2), when, dt.time(9, 15)],
        ],
        hidden_first_sheet=True,
    )
    table = open_table(path, "clients.xlsx")
    assert table.format == "xlsx"
    assert table.headers == ["Name", "Phone", "Sum", "Active", "Born", "Seen", "At"]
    assert rows(table) == [
        (2, ["Ann", 79161234567, 12.5, True, dt.date(1990, 1, 2), when, "09:15:00"])
    ]


def test_spreadsheet_rows_keep_their_numbers_past_empty_rows(tmp_path):
    path = write_xlsx(tmp_path, [[], ["Name", "Phone"], ["Ann", 1], [None, "  "], ["Bob", 2]])
    table = open_table(path, "clients.xlsx")
    assert table.headers == ["Name", "Phone"]
    assert rows(table) == [(3, ["Ann", 1]), (5, ["Bob", 2])]


def test_xls_is_read(tmp_path):
    table = open_table(write_xls(tmp_path, [["Имя", "Телефон"], ["Оля", 79161234567]]), "a.xls")
    assert (table.format, table.headers) == ("xls", ["Имя", "Телефон"])
    assert rows(table) == [(2, ["Оля", 79161234567])]


def test_ods_is_read(tmp_path):
    path = write_ods(tmp_path, [["Name", "Born", "VIP"], ["Ann", dt.date(1990, 1, 2), False]])
    table = open_table(path, "clients.ods")
    assert (table.format, table.headers) == ("ods", ["Name", "Born", "VIP"])
    assert rows(table) == [(2, ["Ann", dt.date(1990, 1, 2), False])]


def test_spreadsheet_with_a_header_only(tmp_path):
    path = write_xlsx(tmp_path, [["Name", "Phone"]])
    assert problem(path).message == "The file has a header but no rows."


def test_empty_spreadsheet(tmp_path):
    assert problem(write_xlsx(tmp_path, [])).message == "The file is empty."


def test_unreadable_spreadsheet(tmp_path):
    path = write_bytes(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "a.xls")
    assert problem(path).message.startswith("The spreadsheet cannot be read: ")


DAMAGED = "The file is damaged or too large when unpacked."


def test_zip_bomb_is_refused_before_unpacking(tmp_path):
    started = time.monotonic()
    path = zip_bomb(tmp_path, megabytes=600)
    assert problem(path).message == DAMAGED
    assert time.monotonic() - started < 3


def test_a_member_that_unpacks_200_times_its_size_is_refused(tmp_path):
    path = zip_bomb(tmp_path, megabytes=20, claim_only=False)
    assert zipfile.ZipFile(path).getinfo("xl/media/zeros.bin").compress_size < 1 * MB
    assert problem(path).message == DAMAGED


def test_more_than_10000_members_is_refused(tmp_path):
    assert open_table(zip_with_members(tmp_path, 9_980), "clients.xlsx").format == "xlsx"
    assert problem(zip_with_members(tmp_path, 10_001, name="b.xlsx")).message == DAMAGED


def test_corrupt_zip_is_refused(tmp_path):
    good = write_xlsx(tmp_path, [["Name"], ["Ann"]]).read_bytes()
    assert problem(write_bytes(tmp_path, good[: len(good) // 2], "a.xlsx")).message == DAMAGED


def test_xml_entities_are_refused_and_nothing_is_read_from_the_server(tmp_path):
    with pytest.raises(FileProblem) as caught:
        table = open_table(xlsx_with_external_entity(tmp_path), "clients.xlsx")
        rows(table)
    error = caught.value
    assert error.message == "The file contains XML entity declarations, which are not allowed."
    everything = f"{error!r} {error.__cause__!r} {error.__context__!r}"
    assert "root:" not in everything
    assert "/bin/" not in everything


# vCard

HEADERS = [
    *("Last name", "First name", "Middle name", "Full name", "Phone", "Phone 2", "Phone 3"),
    *("E-mail", "E-mail 2", "Company", "Position", "Birthday", "Address", "Note", "Website"),
]


def test_vcard_3_fields_escapes_and_folding(tmp_path):
    card = vcard(
        "N:Иванова;Ольга;Петровна;;",
        "FN:Ольга Иванова",
        "TEL;TYPE=CELL:+7 916 000-00-01",
        "TEL;TYPE=WORK:+7 495 000-00-02",
        "TEL:3",
        "TEL:4",
        "EMAIL;TYPE=INTERNET:olga@example.com",
        "item1.EMAIL:o2@example.com",
        "ORG:ООО Ромашка\\, филиал;Отдел продаж",
        "TITLE:Директор",
        "BDAY:1985-04-12",
        "ADR;TYPE=WORK:;;ул. Ленина\\, 1;Москва;;101000;Россия",
        "NOTE:Первая строка\\nвторая\\; и это всё. Длинная заметка,",
        "  которая продолжается на следующей строке",
        "URL:https://example.com",
    )
    table = open_table(write_vcf(tmp_path, card), "contacts.vcf")
    assert (table.format, table.headers, table.encoding) == ("vcf", HEADERS, "utf-8")
    assert rows(table) == [
        (
            1,
            [
                *("Иванова", "Ольга", "Петровна", "Ольга Иванова"),
                *("+7 916 000-00-01", "+7 495 000-00-02", "3"),
                *("olga@example.com", "o2@example.com", "ООО Ромашка, филиал", "Директор"),
                *("1985-04-12", "ул. Ленина, 1, Москва, 101000, Россия"),
                "Первая строка\nвторая; и это всё. Длинная заметка, которая продолжается "
                "на следующей строке",
                "https://example.com",
            ],
        )
    ]


def test_vcard_4_with_uris_and_several_cards(tmp_path):
    cards = "\n".join(
        [
            vcard("FN:Ann", "TEL;VALUE=uri;TYPE=cell:tel:+1-555-0100", version="4.0"),
            vcard("VERSION:4.0", version="4.0"),  # nothing to import: skipped
            vcard("FN:Bob", "EMAIL:bob@example.com", version="4.0"),
        ]
    )
    table = open_table(write_vcf(tmp_path, cards), "contacts.vcard")
    found = rows(table)
    assert [(number, row[3], row[4], row[7]) for number, row in found] == [
        (1, "Ann", "+1-555-0100", ""),
        (3, "Bob", "", "bob@example.com"),
    ]


def test_vcard_2_1_quoted_printable_with_charset(tmp_path):
    card = vcard(
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=98=D0=B2=D0=B0=D0=BD=D0=BE=D0=B2;=D0=98=",
        "=D0=B2=D0=B0=D0=BD",
        "FN;CHARSET=WINDOWS-1251;QUOTED-PRINTABLE:=C8=E2=E0=ED",
        "TEL;CELL:+79160000001",
        version="2.1",
    )
    found = rows(open_table(write_vcf(tmp_path, card), "contacts.vcf"))
    assert found[0][1][:5] == ["Иванов", "Иван", "", "Иван", "+79160000001"]


def test_vcard_in_cp1251_is_decoded(tmp_path):
    table = open_table(write_vcf(tmp_path, vcard("FN:Семён Петров"), "cp1251"), "c.vcf")
    assert table.encoding == "cp1251"
    assert rows(table)[0][1][3] == "Семён Петров"


def test_vcard_without_end_names_the_card(tmp_path):
    text = vcard("FN:Ann") + "\nBEGIN:VCARD\nFN:Bob\n" + vcard("FN:Cid")
    error = problem(write_vcf(tmp_path, text))
    assert (error.row, error.message) == (
        2,
        "Card 2 has no END:VCARD line: the file is cut short or damaged.",
    )
    cut = write_vcf(tmp_path, vcard("FN:Ann") + "\nBEGIN:VCARD\nFN:Bob", name="cut.vcf")
    assert problem(cut).row == 2


def test_vcard_with_only_empty_cards(tmp_path):
    assert problem(write_vcf(tmp_path, vcard())).message == "The file has no contacts."
