"""Imports through /api/v1/imports: upload, suggest, run, check, follow, reject, undo, cancel."""

from __future__ import annotations

import io
import json
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from python_calamine import CalamineWorkbook

from kartoteka.accounts.models import FieldRule, Grant, Role
from kartoteka.accounts.roles import seed_roles
from kartoteka.clients.models import Client
from kartoteka.transfer import importer
from kartoteka.transfer.models import ImportJob
from tests.api import BASE, Api, locs, snapshot
from tests.conftest import make_user
from tests.transfer.test_import_web import BAD_ROW, CSV, HEADERS, SUGGESTED

pytestmark = pytest.mark.django_db


def post_file(api: Api, data: bytes, name: str = "clients.csv", **form: str):  # type: ignore[no-untyped-def]
    fields = {"entity": "persons", **form}
    file = SimpleUploadedFile(name, data, content_type="text/csv")
    return api.http.post(f"{BASE}/imports", {"file": file, **fields})


@pytest.fixture
def api(alice) -> Api:
    return Api(alice)


def suggested(api: Api, data: bytes = CSV.encode("cp1251")) -> dict:  # type: ignore[type-arg]
    response = post_file(api, data, start="false")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def roles(db) -> None:  # type: ignore[no-untyped-def]
    """The shipped roles, which an earlier transactional test may have flushed away."""
    seed_roles(Role, Grant, FieldRule)


# A committed database. `available_apps` (all of them) keeps the flush after the test from
# rebuilding content types, as serialized rollback does: the browser tests that may follow in
# this process restore the rows they were created with, content types included.
@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
def test_upload_and_start_answers_201_with_the_counts(roles, alice):
    # A real commit: ImmediateBackend runs the import before the answer is written.
    response = post_file(Api(alice), CSV.encode("cp1251"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "done"
    assert (body["rows"], body["created"], body["updated"], body["skipped"]) == (2, 3, 0, 0)
    assert body["rejected"] == 0 and body["problems"] == [] and body["error"] == ""
    assert (body["entity"], body["filename"], body["format"]) == ("persons", "clients.csv", "csv")
    assert body["headers"] == HEADERS.split(";") and body["mapping"] == SUGGESTED
    assert body["sample"][0]["name"] == "Иванов Иван Иванович"
    assert body["progress"] is None
    assert Client.objects.filter(owner=alice).count() == 3


def test_upload_queues_the_import_and_get_follows_it(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(api, (CSV + BAD_ROW).encode(), atomic="false")
        assert response.status_code == 201, response.content
        assert response.json()["status"] == "queued"
        assert response.json()["progress"] == {"done": 0, "total": None, "stale": False}
    pk = response.json()["id"]
    body = api.get(f"/imports/{pk}").json()
    assert (body["status"], body["atomic"], body["created"], body["rejected"]) == (
        "done",
        False,
        3,
        1,
    )
    assert body["problems"][0]["row"] == 4 and body["problems"][0]["field"] == "phone"
    assert body["problems"][0]["skipped"] is False


def test_suggest_then_run_a_header_mapping_as_a_dry_run_then_for_real(
    api, django_capture_on_commit_callbacks
):
    body = suggested(api)
    assert body["status"] == "uploaded" and body["progress"] is None
    assert body["headers"] == HEADERS.split(";") and body["mapping"] == SUGGESTED
    assert body["created"] == 0 and not Client.objects.exists()
    pk = body["id"]
    # Only three columns, named by their headers; the others are not imported.
    mapping = {"Фамилия": "last_name", "Имя": "first_name", "Телефон": "phone"}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/imports/{pk}/run", {"mapping": mapping, "dry_run": True})
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "queued"
    checked = api.get(f"/imports/{pk}").json()
    assert (checked["status"], checked["dry_run"], checked["created"]) == ("checked", True, 2)
    assert checked["mapping"] == ["last_name", "first_name", "", "phone", "", "", "", "", ""]
    assert checked["sample"][0] == {"row": 2, "name": "Иванов Иван", "phones": "+79161234567"}
    assert not Client.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/imports/{pk}/run", {"mapping": mapping})
    done = api.get(f"/imports/{pk}").json()
    assert (done["status"], done["created"]) == ("done", 2)
    assert set(Client.objects.values_list("name", flat=True)) == {"Иванов Иван", "Петрова Анна"}
    # Once imported, the file is not run again.
    assert locs(api.post(f"/imports/{pk}/run", {"mapping": mapping})) == [["body", "job"]]


@pytest.mark.parametrize(
    ("form", "loc"),
    [
        ({"entity": "deals"}, ["form", "entity"]),
        ({"on_duplicate": "merge"}, ["form", "on_duplicate"]),
        ({"mapping": "not json"}, ["body", "mapping"]),
        ({"mapping": json.dumps(["last_name", 1])}, ["body", "mapping"]),
        ({"mapping": json.dumps({"Фамилия": None})}, ["body", "mapping"]),
        ({"mapping": json.dumps(["last_name", "nope"])}, ["body", "mapping"]),
        ({"mapping": json.dumps(["nope", *SUGGESTED[1:]])}, ["body", "mapping", 0]),
        ({"mapping": json.dumps(["last_name", "last_name", *SUGGESTED[2:]])}, ["body", "mapping"]),
        (
            {"mapping": json.dumps({"Фамилия": "last_name", "Familia": "phone"})},
            ["body", "mapping"],
        ),
    ],
)
def test_a_bad_upload_is_422_naming_the_field_and_leaves_no_job(api, media, form, loc):
    response = post_file(api, CSV.encode(), **form)
    assert loc in locs(response), response.json()
    assert all(e["msg"] for e in response.json()["detail"])
    assert not ImportJob.objects.exists()
    assert not list(media.glob("imports/*/*"))
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({"mapping": {"Фамилия": "surname"}}, ["body", "mapping", 0], "There is no field surname."),
        (
            {"mapping": {"Фамилия": "last_name", "Имя": "last_name"}},
            ["body", "mapping"],
            "A field other than phones, e-mails and tags fits one column.",
        ),
        (
            {"mapping": {"Фамилия": "last_name", "Фамилия ": "first_name"}},
            ["body", "mapping"],
            "Фамилия ",
        ),
        ({"mapping": ["last_name"]}, ["body", "mapping"], "Give a field for each column"),
        ({"mapping": {}}, ["body", "mapping"], "Choose the field of at least one column."),
        ({"on_duplicate": "merge"}, ["body", "on_duplicate"], ""),
        ({"owner_id": 1}, ["body", "owner_id"], "This field cannot be set."),
        ({"dry_run": "perhaps"}, ["body", "dry_run"], "Enter true or false."),
    ],
)
def test_a_bad_run_is_422_naming_the_field(api, body, loc, message):
    pk = suggested(api)["id"]
    response = api.post(f"/imports/{pk}/run", body)
    assert loc in locs(response), response.json()
    assert message in " ".join(e["msg"] for e in response.json()["detail"])
    job = ImportJob.objects.get(pk=pk)
    assert (job.status, job.mapping, job.on_duplicate) == ("uploaded", SUGGESTED, "skip")


def test_update_is_refused_for_interactions(api, alice):
    Client.objects.create(kind="person", name="X", last_name="X", owner=alice, inn="500100732259")
    data = "ИНН;Дата;Тип\n500100732259;01.02.2024;звонок\n".encode()
    response = post_file(api, data, entity="interactions", start="false")
    assert response.status_code == 201, response.content
    response = api.post(f"/imports/{response.json()['id']}/run", {"on_duplicate": "update"})
    assert locs(response) == [["body", "on_duplicate"]]


def test_fields_of_each_entity(api):
    response = api.get("/imports/fields/persons")
    assert response.status_code == 200
    fields = {f["key"]: f for f in response.json()}
    assert set(SUGGESTED) <= set(fields)
    assert fields["phone"] == {"key": "phone", "label": "phone", "multi": True}
    assert fields["last_name"]["multi"] is False
    purchases = {f["key"] for f in api.get("/imports/fields/purchases").json()}
    assert {"client_inn", "number", "amount", "item", "quantity", "price"} <= purchases
    assert api.get("/imports/fields/deals").status_code == 404


def test_rejected_rows_as_xlsx(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pk = post_file(api, (CSV + BAD_ROW).encode(), atomic="false").json()["id"]
    response = api.get(f"/imports/{pk}/rejected")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="rejected-rows-{pk}.xlsx"'
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0] == ["Row", *HEADERS.split(";"), "Why it was rejected"]
    assert len(rows) == 2 and rows[1][:2] == [4, "Сидоров"] and "phone" in rows[1][-1]


def test_undo(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pk = post_file(api, CSV.encode()).json()["id"]
    assert Client.objects.count() == 3
    response = api.post(f"/imports/{pk}/undo")
    assert response.status_code == 200, response.content
    assert response.json() == {"deleted": 3, "trashed": 0, "restored": 0, "kept": 0}
    assert not Client.all_objects.exists()
    assert api.get(f"/imports/{pk}").json()["status"] == "undone"
    assert locs(api.post(f"/imports/{pk}/undo")) == [["body", "job"]]


def test_cancel(api):
    pk = suggested(api)["id"]
    response = api.post(f"/imports/{pk}/cancel")
    assert locs(response) == [["body", "job"]]
    assert response.json()["detail"][0]["msg"] == "The import is not running."
    # A run whose process stopped answering is cancelled at once.
    job = ImportJob.objects.get(pk=pk)
    ImportJob.objects.filter(pk=pk).update(status="running")
    long_ago = time.time() - 3600
    progress = {"done": 5, "total": 10, "started": long_ago, "at": long_ago}
    importer._write_json(importer.job_dir(job) / "progress.json", progress)
    running = api.get(f"/imports/{pk}").json()
    assert running["progress"]["stale"] is True and running["progress"]["done"] == 5
    response = api.post(f"/imports/{pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_another_users_import_is_404_and_an_admin_may_only_look(
    api, bob, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        done = post_file(api, CSV.encode()).json()["id"]
    waiting = suggested(api)["id"]
    before = snapshot()
    other = Api(bob)
    for pk in (done, waiting):
        assert other.get(f"/imports/{pk}").status_code == 404
        assert other.get(f"/imports/{pk}/rejected").status_code == 404
        for action in ("run", "cancel", "undo"):
            assert other.post(f"/imports/{pk}/{action}").status_code == 404, action
    boss = Api(admin)
    assert boss.get(f"/imports/{done}").json()["created"] == 3
    assert boss.post(f"/imports/{done}/undo").status_code == 403
    assert boss.post(f"/imports/{waiting}/run", {"mapping": SUGGESTED}).status_code == 403
    assert boss.post(f"/imports/{waiting}/cancel").status_code == 403
    assert snapshot() == before
    assert list(ImportJob.objects.values_list("status", flat=True)) == ["uploaded", "done"]


def test_unauthenticated_is_401(alice):
    job = ImportJob.objects.create(user=alice, entity="persons", filename="a.csv", format="csv")
    anonymous = Api(None)
    assert post_file(anonymous, CSV.encode()).status_code == 401
    for path in (f"/imports/{job.pk}", f"/imports/{job.pk}/rejected", "/imports/fields/persons"):
        response = anonymous.get(path)
        assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
    assert anonymous.post(f"/imports/{job.pk}/run", {}).status_code == 401
    assert ImportJob.objects.count() == 1


def test_a_role_without_the_create_right_gets_403_and_no_job(db):
    analyst = make_user("anna", role="analyst")
    response = post_file(Api(analyst), CSV.encode())
    assert response.status_code == 403
    assert response.json() == {"detail": "You may not do this."}
    assert not ImportJob.objects.exists()


def test_a_bad_file_is_422_naming_the_file(api):
    response = post_file(api, (HEADERS + "\n").encode())
    assert locs(response) == [["body", "file"]]
    assert response.json()["detail"][0]["msg"] == "The file has a header but no rows."
    response = post_file(api, b"%PDF-1.4 ...", "clients.csv")
    assert "it looks like a PDF document" in response.json()["detail"][0]["msg"]
    response = api.http.post(f"{BASE}/imports", {"entity": "persons"})
    assert locs(response) == [["file", "file"]]
    assert response.json()["detail"][0]["msg"] == "This field is required."
    assert not ImportJob.objects.exists()


def test_the_schema_lists_the_import_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    expected = {
        "/api/v1/imports": {"post"},
        "/api/v1/imports/{pk}": {"get"},
        "/api/v1/imports/{pk}/run": {"post"},
        "/api/v1/imports/{pk}/cancel": {"post"},
        "/api/v1/imports/{pk}/undo": {"post"},
        "/api/v1/imports/{pk}/rejected": {"get"},
        "/api/v1/imports/fields/{entity}": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
    upload = paths["/api/v1/imports"]["post"]["requestBody"]["content"]["multipart/form-data"]
    form = upload["schema"]
    assert set(form["properties"]) == {
        "file",
        "entity",
        "mapping",
        "on_duplicate",
        "atomic",
        "dry_run",
        "start",
    }
    assert form["properties"]["file"]["format"] == "binary"
    assert set(form["required"]) == {"file", "entity"}


def _progress_seen_by_the_api(api, monkeypatch, capture, data: bytes) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """Upload and run; each time the run reports progress, read the job through the API."""
    pk = suggested(api, data)["id"]
    seen = []
    write = importer._write_json

    def report(path, progress):  # type: ignore[no-untyped-def]
        write(path, progress)
        if path.name == "progress.json":
            seen.append(api.get(f"/imports/{pk}").json()["progress"])

    monkeypatch.setattr(importer, "_write_json", report)
    with capture(execute=True):
        api.post(f"/imports/{pk}/run", {})
    assert api.get(f"/imports/{pk}").json()["created"] == 4500
    return seen


def test_the_api_follows_a_running_import(api, monkeypatch, django_capture_on_commit_callbacks):
    rows = "".join(f"Иванов{n};Пётр\n" for n in range(4500))
    seen = _progress_seen_by_the_api(
        api, monkeypatch, django_capture_on_commit_callbacks, f"Фамилия;Имя\n{rows}".encode()
    )
    assert [p["done"] for p in seen] == [0, 2000, 4000, 4500]
    assert {p["total"] for p in seen} == {4500} and not any(p["stale"] for p in seen)
    assert all(p["left"] is None or p["left"] >= 0 for p in seen)


def test_the_progress_of_a_csv_with_cr_line_ends(
    api, monkeypatch, django_capture_on_commit_callbacks
):
    rows = "".join(f"Иванов{n};Пётр\r" for n in range(4500))
    seen = _progress_seen_by_the_api(
        api, monkeypatch, django_capture_on_commit_callbacks, f"Фамилия;Имя\r{rows}".encode()
    )
    assert all(p["total"] is None or p["total"] >= p["done"] for p in seen), seen
