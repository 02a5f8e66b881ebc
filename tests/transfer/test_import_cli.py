"""`kartoteka import PATH --entity … [--mapping] [--on-duplicate] [--dry-run] [--partial]`."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing, suppress
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client
from kartoteka.transfer.models import ImportJob
from tests.api import company, person
from tests.conftest import make_user
from tests.transfer.files import write_csv, write_xlsx
from tests.transfer.test_import_web import BAD_ROW, CSV

pytestmark = pytest.mark.django_db


def kartoteka_import(path: Path, *args: str, entity: str = "persons") -> dict[str, Any]:
    """Run the command with --json; returns what it printed."""
    out = io.StringIO()
    call_command("import", str(path), "--entity", entity, "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def refused(path: Path, *args: str, entity: str = "persons") -> tuple[str, dict[str, Any] | None]:
    """Run it expecting a non-zero exit: the error message and the JSON printed before it."""
    out = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import", str(path), "--entity", entity, "--json", *args, stdout=out)
    printed = out.getvalue()
    return str(error.value), json.loads(printed) if printed else None


def test_a_good_file_prints_the_counts(admin, tmp_path):
    printed = kartoteka_import(write_csv(tmp_path, CSV, "cp1251"))
    assert printed == {"created": 3, "updated": 0, "skipped": 0, "rejected": []}
    assert list(printed) == ["created", "updated", "skipped", "rejected"]
    assert Client.objects.filter(owner=admin).count() == 3
    job = ImportJob.objects.get()
    assert (job.user, job.status, job.created) == (admin, "done", 3)


def test_without_json_it_prints_a_line_per_problem(alice, tmp_path):
    out = io.StringIO()
    path = write_csv(tmp_path, CSV + BAD_ROW)
    call_command(
        "import", str(path), "--entity", "persons", "--user", "alice", "--partial", stdout=out
    )
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("imported; created 3, updated 0, skipped 0, rejected 1")
    assert lines[1].startswith("  row 4: phone: ")


def test_a_bad_row_refuses_the_whole_file(admin, tmp_path):
    message, printed = refused(write_csv(tmp_path, CSV + BAD_ROW))
    assert message == "not imported: rows have errors"
    assert printed is not None
    assert (printed["created"], printed["updated"], printed["skipped"]) == (0, 0, 0)
    assert [(r["row"], r["field"]) for r in printed["rejected"]] == [(4, "phone")]
    assert "12345" in printed["rejected"][0]["message"]
    assert set(printed["rejected"][0]) == {"row", "field", "message"}
    assert not Client.objects.exists()
    assert ImportJob.objects.get().status == "rejected"


def test_every_rejected_row_is_listed(admin, tmp_path):
    bad = "".join(f"Сидоров;Пётр{n};;12345;;;;;\n" for n in range(1100))
    _message, printed = refused(write_csv(tmp_path, CSV + bad))
    assert printed is not None and len(printed["rejected"]) == 1100
    assert printed["rejected"][-1]["row"] == 1103
    assert not Client.objects.exists()


def test_dry_run_writes_nothing(admin, tmp_path):
    printed = kartoteka_import(write_csv(tmp_path, CSV), "--dry-run")
    assert printed == {"created": 3, "updated": 0, "skipped": 0, "rejected": []}
    assert not Client.objects.exists()
    job = ImportJob.objects.get()
    assert (job.status, job.dry_run) == ("checked", True)
    # A dry run of a file the import would refuse says so with its exit status.
    message, printed = refused(write_csv(tmp_path, CSV + BAD_ROW, name="bad.csv"), "--dry-run")
    assert message == "the import would be refused: 1 rows have errors"
    assert printed is not None and printed["rejected"][0]["row"] == 4
    assert not Client.objects.exists()


def test_on_duplicate_update_updates(admin, tmp_path):
    kartoteka_import(write_csv(tmp_path, CSV, name="first.csv"))
    again = CSV.replace("Иванович;8", "Петрович;8").replace("1985-03-04", "1985-03-05")
    printed = kartoteka_import(
        write_csv(tmp_path, again, name="again.csv"), "--on-duplicate", "update"
    )
    assert printed == {"created": 0, "updated": 2, "skipped": 0, "rejected": []}
    assert Client.objects.get(last_name="Иванов").middle_name == "Петрович"
    assert str(Client.objects.get(last_name="Петрова").birthday) == "1985-03-05"
    skipped = kartoteka_import(write_csv(tmp_path, again, name="third.csv"))
    assert (skipped["created"], skipped["skipped"]) == (0, 2)
    assert Client.objects.filter(kind="person").count() == 2


def test_a_mapping_file_names_the_columns(admin, tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"Фамилия": "last_name", "E-mail": "email"}), encoding="utf-8")
    printed = kartoteka_import(write_csv(tmp_path, CSV), "--mapping", str(mapping))
    assert printed["created"] == 2  # no company column: no companies
    ivanov = Client.objects.get(last_name="Иванов")
    assert (ivanov.first_name, ivanov.primary_email, ivanov.primary_phone) == (
        "",
        "ivanov@example.ru",
        "",
    )
    assert ImportJob.objects.get().mapping == ["last_name", "", "", "", "email", "", "", "", ""]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"Фамилия": "surname"}, "There is no field surname."),
        ({"Фамилия": "last_name", "Familia": "phone"}, "no column 'Familia'"),
        ({"Фамилия": "last_name", "Имя": "last_name"}, "fits one column"),
        (["last_name"], "Give a field for each column"),
        ({"Фамилия": 1}, "expected a JSON list of fields or {header: field}"),
        ("not json", "--mapping"),
    ],
)
def test_a_bad_mapping_file_is_refused_before_anything_is_stored(
    admin, tmp_path, media, content, message
):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(content if isinstance(content, str) else json.dumps(content))
    error, printed = refused(write_csv(tmp_path, CSV), "--mapping", str(mapping))
    assert message in error and printed is None
    assert not ImportJob.objects.exists() and not Client.objects.exists()
    assert not list(media.glob("imports/*/*"))


def test_partial_imports_the_valid_rows(admin, tmp_path):
    printed = kartoteka_import(write_csv(tmp_path, CSV + BAD_ROW), "--partial")
    assert (printed["created"], printed["skipped"]) == (3, 0)
    assert [(r["row"], r["field"]) for r in printed["rejected"]] == [(4, "phone")]
    assert not Client.objects.filter(last_name="Сидоров").exists()
    assert Client.objects.count() == 3


def test_the_user_option_and_the_users_rights(alice, tmp_path):
    make_user("anna", role="analyst")
    error, printed = refused(write_csv(tmp_path, CSV), "--user", "anna")
    assert error == "anna's role may not create persons" and printed is None
    error, _printed = refused(write_csv(tmp_path, CSV), "--user", "nobody")
    assert error == "no active user nobody"
    assert not ImportJob.objects.exists()
    printed = kartoteka_import(write_csv(tmp_path, CSV), "--user", "alice")
    assert printed["created"] == 3 and Client.objects.filter(owner=alice).count() == 3


def test_a_bad_file_is_refused_with_the_reason(admin, tmp_path):
    error, _printed = refused(write_csv(tmp_path, "Фамилия;Имя\n"))
    assert error == "file: The file has a header but no rows."
    error, _printed = refused(tmp_path / "missing.csv")
    assert error.endswith("missing.csv: no such file")
    assert not ImportJob.objects.exists()


def test_interactions_find_clients_by_phone_in_another_format_and_by_inn(admin, alice, tmp_path):
    ivanov = person(phones=("+7 916 123-45-67",), owner=alice)
    romashka = company(inn="7707083893", owner=alice)
    text = (
        "Телефон;ИНН;Дата;Тип;Тема\n"
        "8 (916) 123-45-67;;01.02.2024 10:30;call;Позвонил сам\n"
        ";7707083893;2024-02-03;meeting;Встреча в офисе\n"
        "+7 999 000-00-00;;2024-02-04;call;Никого нет\n"
    )
    printed = kartoteka_import(write_csv(tmp_path, text), "--partial", entity="interactions")
    assert (printed["created"], printed["skipped"]) == (2, 0)
    assert printed["rejected"] == [
        {"row": 4, "field": "client_phone", "message": "No client you may see has this phone."}
    ]
    call = Interaction.objects.get(client=ivanov)
    assert (call.kind, call.subject, call.author) == ("call", "Позвонил сам", admin)
    assert call.occurred_at.date().isoformat() == "2024-02-01"
    meeting = Interaction.objects.get(client=romashka)
    assert (meeting.kind, meeting.subject) == ("meeting", "Встреча в офисе")
    ivanov.refresh_from_db()
    assert ivanov.last_contact_at == call.occurred_at


SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


def test_interactions_already_on_the_timeline_are_skipped(admin, tmp_path):
    ivanov = person(phones=("+79161234567",))
    text = "Телефон;Дата;Тип\n89161234567;01.02.2024 10:30;call\n89161234567;02.02.2024;meeting\n"
    first = kartoteka_import(write_csv(tmp_path, text), entity="interactions")
    assert first["created"] == 2
    again = kartoteka_import(write_csv(tmp_path, text, name="again.csv"), entity="interactions")
    assert (again["created"], again["skipped"]) == (0, 2)
    assert Interaction.objects.filter(client=ivanov).count() == 2


PURCHASE_HEADER = "Номер;Дата;ИНН клиента;Номенклатура;Количество;Цена"


def test_purchase_lines_of_one_document_make_one_purchase(admin, tmp_path):
    romashka = company(inn="7707083893")
    text = (
        f"{PURCHASE_HEADER}\n"
        "А-17;01.02.2024;7707083893;Стул;2;1 500,50\n"
        "А-17;01.02.2024;7707083893;Стол;1;10 000\n"
        "А-18;05.02.2024;7707083893;Лампа;3;100\n"
    )
    printed = kartoteka_import(write_csv(tmp_path, text, "cp1251"), entity="purchases")
    assert printed == {"created": 2, "updated": 0, "skipped": 0, "rejected": []}
    first = Interaction.objects.get(client=romashka, number="А-17")
    assert (first.kind, first.currency, first.amount) == ("purchase", "RUB", Decimal("13001.00"))
    assert first.items == [
        {"name": "Стул", "quantity": "2.000", "price": "1500.500"},
        {"name": "Стол", "quantity": "1.000", "price": "10000.000"},
    ]
    assert Interaction.objects.get(number="А-18").amount == Decimal("300.00")


def test_purchase_line_sums_add_up_to_the_document_amount(admin, tmp_path):
    company(inn="7707083893")
    text = (
        f"{PURCHASE_HEADER};Сумма\n"
        "А-17;01.02.2024;7707083893;Стул;2;100;200\n"
        "А-17;01.02.2024;7707083893;Стол;1;300;300\n"
    )
    printed = kartoteka_import(write_csv(tmp_path, text), entity="purchases")
    assert printed["created"] == 1
    assert Interaction.objects.get(number="А-17").amount == Decimal("500.00")


def test_purchases_from_xlsx_with_amounts_and_a_currency(admin, tmp_path):
    ivanov = person(phones=("+79161234567",))
    rows = [
        ["Номер заказа", "Дата заказа", "Телефон клиента", "Сумма", "Валюта"],
        ["З-1", "2024-03-01", "89161234567", 1234.5, "usd"],
        ["З-2", "2024-03-02", "89161234567", "1 000,00", ""],
    ]
    printed = kartoteka_import(write_xlsx(tmp_path, rows), entity="purchases")
    assert printed["created"] == 2, printed
    amounts = dict(Interaction.objects.filter(client=ivanov).values_list("number", "amount"))
    assert amounts == {"З-1": Decimal("1234.50"), "З-2": Decimal("1000.00")}
    assert Interaction.objects.get(number="З-1").currency == "USD"


def test_create_policy_with_a_known_external_id_is_a_rejected_row(admin, tmp_path):
    kartoteka_import(write_csv(tmp_path, "Внешний id;Фамилия\nX-1;Иванов\n", name="a.csv"))
    message, printed = refused(
        write_csv(tmp_path, "Внешний id;Фамилия\nX-1;Петров\n", name="b.csv"),
        "--on-duplicate",
        "create",
    )
    assert message == "not imported: rows have errors" and printed is not None
    assert printed["rejected"] == [
        {
            "row": 2,
            "field": "external_id",
            "message": "Another client already has this external id.",
        }
    ]
    assert ImportJob.objects.order_by("pk").last().status == "rejected"
    assert list(Client.objects.values_list("last_name", flat=True)) == ["Иванов"]


def test_a_persons_external_id_held_by_a_company_is_named_as_the_problem(admin, tmp_path):
    kartoteka_import(write_csv(tmp_path, "Внешний id;Название\nX-1;Ромашка\n"), entity="companies")
    path = write_csv(tmp_path, "Внешний id;Фамилия\nX-1;Петров\n", name="persons.csv")
    _message, printed = refused(path, "--on-duplicate", "update")
    assert printed is not None
    assert [r["field"] for r in printed["rejected"]] == ["external_id"]
    assert Client.objects.get().name == "Ромашка"


# --- an import killed halfway ------------------------------------------------------------------

KARTOTEKA = Path(sys.executable).parent / "kartoteka"


def _embedded_env(var: Path) -> dict[str, str]:
    """Embedded mode in `var`: SQLite there, a generated secret key, none of this run's
    database or cache settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "SECRET_KEY", "REDIS_", "DJANGO_ALLOW_ASYNC"))
    }
    env.update(KARTOTEKA_VAR_DIR=str(var), DJANGO_SUPERUSER_PASSWORD="an-operator-password-1")
    return env


def _indexes(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as db:
        rows = db.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') "
            "AND tbl_name LIKE 'clients_%' ORDER BY name"
        )
        return [name for (name,) in rows]


def test_an_import_killed_halfway_leaves_the_database_as_it_was(tmp_path):
    var = tmp_path / "var"
    env = _embedded_env(var)
    for command in (
        ["migrate", "-v0"],
        ["createsuperuser", "--noinput", "--username", "op", "--email", "op@example.com"],
    ):
        run = [KARTOTEKA, *command]
        subprocess.run(run, env=env, check=True, capture_output=True, timeout=60)  # noqa: S603
    database = var / "kartoteka.sqlite3"
    indexes = _indexes(database)
    assert "client_inn" in indexes and len(indexes) > 5
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as out:
        out.write("Фамилия;Имя;Телефон;E-mail\n")
        for n in range(150_000):
            out.write(f"Иванов{n};Пётр;+7 916 {n // 10_000:03d}-{n % 10_000:04d};p{n}@example.ru\n")
    progress = var / "media" / "imports" / "1" / "progress.json"
    command = [KARTOTEKA, "import", str(big), "--entity", "persons", "--json"]
    process = subprocess.Popen(  # noqa: S603
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 25
        done = 0
        while done == 0 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
            with suppress(OSError, ValueError):
                done = json.loads(progress.read_text())["done"]
        assert done > 0, process.stderr.read().decode() if process.poll() is not None else "slow"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(10)
    assert process.returncode == -signal.SIGKILL
    assert done < 150_000
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        for table in ("clients_client", "clients_phone", "clients_email", "clients_clientevent"):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table  # noqa: S608
        job = db.execute("SELECT status, created FROM transfer_importjob").fetchall()
    # The job was left running; the page calls it stale once its progress grows old.
    assert job == [("running", 0)]
    # The indexes dropped for the bulk load were dropped inside the transaction: all back.
    assert _indexes(database) == indexes
