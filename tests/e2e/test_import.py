"""Importing in a real browser: upload a CSV, fix the suggested mapping, check, import, find.

The live server runs the ImmediateBackend task inside the request that starts the import: the
test database is in autocommit mode there (transactional_db, no atomic block around the
request), so `transaction.on_commit` runs the import at once and the redirect shows its result.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Uploads go to the test's directory (the live server runs in this process)."""
    settings.MEDIA_ROOT = tmp_path / "media"


JOB_URL = re.compile(r"/imports/(\d+)/$")
CSV = (
    "Фамилия;Имя;Мобильный;Почта;Заметка о клиенте\n"
    "Импортов;Пётр;8 (916) 555-01-02;Petr@Example.RU;Позвонить после обеда\n"
    "Загрузкина;Анна;+7 903 555-03-04;anna@example.ru;\n"
)


def test_upload_map_check_import_and_find(page, user, tmp_path):  # type: ignore[no-untyped-def]
    from kartoteka.clients.models import Client
    from kartoteka.transfer.models import ImportJob

    path = tmp_path / "clients.csv"
    path.write_bytes(CSV.encode("cp1251"))
    login(page)
    page.get_by_role("navigation").get_by_role("link", name="Import", exact=True).click()
    expect(page).to_have_url(re.compile(r"/imports/$"))
    expect(page.locator("#entity")).to_have_value("persons")
    page.set_input_files("#file", str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Upload and map columns").click()
    expect(page).to_have_url(JOB_URL)
    expect(page.locator("#status")).to_have_text("waiting for the column mapping")

    # The suggestions, from the Russian headers; the last column is not known.
    for column, field in enumerate(["last_name", "first_name", "phone", "email", ""]):
        expect(page.locator(f"#col_{column}")).to_have_value(field)
    mapping = page.locator("#mapping")
    expect(mapping).to_contain_text("8 (916) 555-01-02")
    expect(mapping).to_contain_text("Позвонить после обеда")
    page.get_by_label("Заметка о клиенте").select_option("description")

    with page.expect_navigation():
        page.get_by_role("button", name="Check (dry run)").click()
    expect(page.locator("#status")).to_have_text("checked (dry run)")
    result = page.locator("#result")
    expect(result).to_contain_text("The check found: 2 to create, 0 to update, 0 to skip")
    expect(result).to_contain_text("Nothing has been written.")
    sample = page.locator("#sample")
    expect(sample.locator("tbody tr")).to_have_count(2)
    expect(sample).to_contain_text("Импортов Пётр")
    expect(sample).to_contain_text("+79165550102")
    expect(sample).to_contain_text("petr@example.ru")
    assert not Client.objects.exists()
    # The page keeps the mapping the user chose.
    expect(page.locator("#col_4")).to_have_value("description")

    with page.expect_navigation():
        page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#status")).to_have_text("imported")
    expect(page.locator("#result")).to_contain_text("Created 2, updated 0, skipped 0, rejected 0.")
    expect(page.locator("#mapping")).to_have_count(0)
    job = ImportJob.objects.get()
    assert (job.status, job.created, job.user_id) == ("done", 2, user.pk)
    petr = Client.objects.get(last_name="Импортов")
    assert (petr.description, petr.primary_phone) == ("Позвонить после обеда", "+79165550102")

    # "Undo" asks first (htmx's confirm; the test's dialog handler says no): nothing changes.
    with page.expect_event("dialog") as dialog:
        page.get_by_role("button", name="Undo this import").click()
    assert dialog.value.type == "confirm" and "Undo this import?" in dialog.value.message
    expect(page.locator("#status")).to_have_text("imported")
    assert Client.objects.filter(kind="person").count() == 2

    # The imported people are in the client list.
    page.get_by_role("navigation").get_by_role("link", name="Clients", exact=True).click()
    expect(page).to_have_url(re.compile(r"/clients/$"))
    rows = page.locator("#rows")
    expect(rows.get_by_role("link", name="Импортов Пётр")).to_be_visible()
    expect(rows.get_by_role("link", name="Загрузкина Анна")).to_be_visible()
    rows.get_by_role("link", name="Импортов Пётр").click()
    expect(page.locator("#client-name")).to_have_text("Импортов Пётр")

    assert page.errors.csp == [], f"CSP violations: {page.errors.csp}"
    assert page.errors.all() == [], f"errors in the browser: {page.errors.all()}"
    assert page.errors.http == [], f"failed requests: {page.errors.http}"


def test_the_progress_bar_follows_a_running_import(page, user, tmp_path):  # type: ignore[no-untyped-def]
    from kartoteka.transfer import importer, imports
    from kartoteka.transfer.models import ImportJob

    path = tmp_path / "clients.csv"
    path.write_bytes(CSV.encode())
    with path.open("rb") as stream:
        job = imports.upload(user, "persons", path.name, stream, path.stat().st_size)
    ImportJob.objects.filter(pk=job.pk).update(status="running")

    def worker_reports(done: int) -> None:
        now = time.time()
        data = {"done": done, "total": 2000, "started": now - 10, "at": now}
        importer._write_json(importer.job_dir(job) / "progress.json", data)

    worker_reports(500)
    login(page)
    page.goto(f"/imports/{job.pk}/")
    text = page.locator("#progress-text")
    expect(text).to_have_text("500 of about 2000 rows · about 30 s left")
    assert page.locator("#progress-bar").evaluate("bar => bar.position") == 0.25
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()

    # The worker moves on: htmx swaps the bar in place, the page does not reload.
    page.evaluate("window.__kartotekaNoReload = 'bar'")
    worker_reports(1500)
    expect(text).to_have_text(re.compile(r"^1500 of about 2000 rows"))
    assert page.locator("#progress-bar").evaluate("bar => bar.position") == 0.75
    assert page.evaluate("window.__kartotekaNoReload") == "bar"

    # The run ends: the next poll reloads the page, which shows the result.
    ImportJob.objects.filter(pk=job.pk).update(status="done", created=2, rows=2)
    expect(page.locator("#result")).to_contain_text("Created 2, updated 0, skipped 0")
    expect(page.locator("#progress")).to_have_count(0)
    assert page.evaluate("window.__kartotekaNoReload") is None
    assert page.errors.csp == [], f"CSP violations: {page.errors.csp}"
    assert page.errors.all() == [], f"errors in the browser: {page.errors.all()}"
