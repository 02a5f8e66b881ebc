"""Importing persons: mapping from headers, normalisation, duplicates, atomicity, undo."""

from __future__ import annotations

import pytest

from kartoteka.clients.models import Client, ClientEvent, Employment
from kartoteka.transfer import imports
from kartoteka.transfer.models import ImportJob
from tests.transfer.files import write_csv
from tests.transfer.importing import import_file

CSV = (
    "Фамилия;Имя;Отчество;Телефон;E-mail;ИНН;Компания;Должность;Дата рождения\n"
    "Иванов;Иван;Иванович;8 (916) 123-45-67;Ivanov@Example.RU ;500100732259;ООО «Ромашка»;"
    "Генеральный директор;01.02.1980\n"
    "Петрова;Анна;;+7 903 765 43 21, 8-903-765-43-22;anna@example.ru;;Ромашка;"
    "Главный бухгалтер;1985-03-04\n"
)


def test_persons_from_a_russian_csv(alice, tmp_path):
    job = import_file(alice, write_csv(tmp_path, CSV, "cp1251"))
    assert job.mapping == [
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
    assert (job.status, job.created, job.rejected) == ("done", 3, 0), job.problems
    ivanov = Client.objects.get(last_name="Иванов")
    assert ivanov.name == "Иванов Иван Иванович"
    assert ivanov.primary_phone == "+79161234567"
    assert ivanov.primary_email == "ivanov@example.ru"
    assert ivanov.inn == "500100732259"
    assert str(ivanov.birthday) == "1980-02-01"
    assert ivanov.owner == alice and ivanov.completeness > 0
    petrova = Client.objects.get(last_name="Петрова")
    assert list(petrova.phones.values_list("e164", flat=True)) == ["+79037654321", "+79037654322"]
    company = Client.objects.get(kind="company")
    assert (company.legal_form, company.company_name) == ("ООО", "Ромашка")
    roles = dict(Employment.objects.values_list("person__last_name", "role"))
    assert roles == {"Иванов": "director", "Петрова": "accountant"}
    assert ClientEvent.objects.filter(verb="created").count() == 3
    assert Client.objects.filter(search_text__contains="89161234567").exists()


def test_atomic_import_writes_nothing_when_a_row_is_bad(alice, tmp_path):
    bad = CSV + "Сидоров;Пётр;;12345;not-an-email;;;;31.02.1990\n"
    job = import_file(alice, write_csv(tmp_path, bad))
    assert job.status == "rejected" and job.rejected == 1
    assert not Client.objects.exists()
    fields = {p["field"] for p in job.problems}
    assert {"phone", "email", "birthday"} <= fields
    assert all(p["row"] == 4 for p in job.problems)


def test_partial_import_keeps_good_rows_and_lists_the_rejected(alice, tmp_path):
    bad = CSV + "Сидоров;Пётр;;12345;;;;;\n"
    job = import_file(alice, write_csv(tmp_path, bad), atomic=False)
    assert (job.status, job.created, job.rejected) == ("done", 3, 1)
    header, rows = imports.rejected_rows(job)
    rows = list(rows)
    assert header[0] == "Row" and header[-1] == "Why it was rejected"
    assert rows[0][0] == 4 and rows[0][1] == "Сидоров" and "12345" in rows[0][-1]


def test_dry_run_writes_nothing_and_shows_the_rows_as_stored(alice, tmp_path):
    job = import_file(alice, write_csv(tmp_path, CSV), dry_run=True)
    assert job.status == "checked" and job.created == 3
    assert not Client.objects.exists()
    assert job.sample[0]["name"] == "Иванов Иван Иванович"
    assert job.sample[0]["phones"] == "+79161234567"
    assert job.sample[1]["phones"] == "+79037654321, +79037654322"


@pytest.mark.parametrize(
    ("policy", "created", "updated", "skipped"),
    [("skip", 0, 0, 2), ("update", 0, 2, 0), ("create", 2, 0, 0)],
)
def test_duplicate_policy(alice, tmp_path, policy, created, updated, skipped):
    import_file(alice, write_csv(tmp_path, CSV, name="first.csv"))
    again = CSV.replace("Генеральный директор", "Директор").replace("Ромашка;", "Ромашка;")
    again = again.replace("Иванович;8", "Петрович;8")
    job = import_file(alice, write_csv(tmp_path, again, name="again.csv"), on_duplicate=policy)
    assert (job.created, job.updated, job.skipped) == (created, updated, skipped), job.problems
    if policy == "update":
        assert Client.objects.get(last_name="Иванов").middle_name == "Петрович"


def test_undo_restores_the_state_before(alice, tmp_path):
    first = import_file(alice, write_csv(tmp_path, CSV, name="first.csv"))
    again = CSV.replace("Иванович;8", "Петрович;8")
    second = import_file(alice, write_csv(tmp_path, again, name="b.csv"), on_duplicate="update")
    assert Client.objects.get(last_name="Иванов").middle_name == "Петрович"
    imports.undo(alice, second)
    assert Client.objects.get(last_name="Иванов").middle_name == "Иванович"
    result = imports.undo(alice, first)
    # The two it created and the second import changed go to the trash; the company is deleted.
    assert (result["deleted"], result["trashed"]) == (1, 2)
    assert not Client.objects.exists() and Client.all_objects.count() == 2
    assert ImportJob.objects.get(pk=first.pk).status == "undone"


def test_the_import_log_lists_the_records_it_changed(alice, alice_client, tmp_path):
    from django.urls import reverse

    import_file(alice, write_csv(tmp_path, CSV, name="first.csv"))
    again = CSV.replace("Иванович;8", "Петрович;8")
    job = import_file(alice, write_csv(tmp_path, again, name="b.csv"), on_duplicate="update")
    page = alice_client.get(reverse("import_job", args=[job.pk])).content.decode()
    ivanov = Client.objects.get(last_name="Иванов")
    assert f'href="/clients/{ivanov.pk}/"' in page and "Иванов Иван Петрович" in page


def test_update_adds_contacts_and_keeps_what_people_typed(alice, tmp_path):
    from kartoteka.clients import services
    from kartoteka.clients.services import PhoneIn

    client = services.create_client(
        alice, "person", {"last_name": "Орлов"}, phones=[PhoneIn("8 (495) 123-45-67", "work")]
    )
    path = write_csv(tmp_path, "Фамилия;Телефон\nОрлов;+7 495 123 45 67, 8 916 000 11 22\n")
    job = import_file(alice, path, on_duplicate="update")
    assert job.updated == 1, job.problems
    phones = list(client.phones.values_list("raw", "kind", "e164"))
    assert phones == [
        ("8 (495) 123-45-67", "work", "+74951234567"),
        ("8 916 000 11 22", "mobile", "+79160001122"),
    ]
    imports.undo(alice, job)
    assert list(client.phones.values_list("raw", "kind")) == [("8 (495) 123-45-67", "work")]
