"""Importing companies with their people, interactions and purchases; rights; hostile input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kartoteka.activities.models import Interaction
from kartoteka.clients import services
from kartoteka.clients.models import Client, Employment
from kartoteka.clients.services import PhoneIn
from kartoteka.transfer import imports
from tests.transfer.files import (
    vcard,
    write_bytes,
    write_csv,
    write_ods,
    write_vcf,
    write_xls,
    write_xlsx,
    xlsx_with_external_entity,
    zip_bomb,
)
from tests.transfer.importing import import_file

COMPANIES = (
    "Наименование,ИНН,КПП,Телефон,Контактное лицо,Должность контакта,E-mail контакта\n"
    '"Общество с ограниченной ответственностью ""Ромашка""",7707083893,773601001,'
    "+7 495 123-45-67,Иванов Иван Иванович,Генеральный директор,ivanov@romashka.ru\n"
    "ООО «Ромашка»,7707083893,,,Петрова Анна Сергеевна,Главный бухгалтер,petrova@romashka.ru\n"
)


def test_companies_with_their_people(alice, tmp_path):
    job = import_file(alice, write_csv(tmp_path, COMPANIES), "companies")
    assert job.mapping == [
        "company_name",
        "inn",
        "kpp",
        "phone",
        "contact_name",
        "contact_position",
        "contact_email",
    ]
    assert job.status == "done", job.problems
    company = Client.objects.get(kind="company")
    assert (company.legal_form, company.company_name, company.kpp) == (
        "ООО",
        "Ромашка",
        "773601001",
    )
    staff = {(j.person.last_name, j.role) for j in Employment.objects.select_related("person")}
    assert staff == {("Иванов", "director"), ("Петрова", "accountant")}
    assert job.skipped == 1  # the second row is the same company (by INN); its person is added


INTERACTIONS = """Телефон;Тип;Дата;Тема;Длительность
8 (916) 111-22-33;звонок;05.03.2024 14:30;Договорились о встрече;02:15
+79161112233;встреча;2024-03-06;Встреча в офисе;
7707083893;call;45360;;
"""


def test_interactions_find_their_client_by_phone_or_inn(alice, tmp_path):
    person = services.create_client(
        alice, "person", {"last_name": "Клиент"}, phones=[PhoneIn("+7 916 111 22 33")]
    )
    job = import_file(
        alice,
        write_csv(tmp_path, INTERACTIONS),
        "interactions",
        ["client_phone", "kind", "occurred_at", "subject", "duration_seconds"],
        atomic=False,
    )
    assert (job.created, job.rejected) == (2, 1), job.problems
    calls = Interaction.objects.filter(client=person).order_by("occurred_at")
    assert [c.kind for c in calls] == ["call", "meeting"]
    assert calls[0].duration_seconds == 135
    assert dt.datetime.fromisoformat("2024-03-05T14:30:00+03:00") == calls[0].occurred_at
    person.refresh_from_db()
    assert person.last_contact_at == calls[1].occurred_at
    assert job.problems[0]["field"] == "client_phone"  # the INN is not a phone number


PURCHASES = """ИНН клиента;Номер;Дата;Товар;Кол-во;Цена;Валюта
7707083893;А-17;01.02.2024;Бумага А4;10;1 250,50;RUB
7707083893;А-17;01.02.2024;Ручки;100;12.5;RUB
7707083893;А-18;45323;Степлер;1;990;RUB
"""


def test_purchases_group_line_items_by_document_number(alice, tmp_path):
    company = services.create_client(
        alice, "company", {"company_name": "Ромашка", "inn": "7707083893"}
    )
    job = import_file(alice, write_csv(tmp_path, PURCHASES), "purchases")
    assert job.mapping == [
        "client_inn",
        "number",
        "occurred_at",
        "item",
        "quantity",
        "price",
        "currency",
    ]
    assert (job.status, job.created) == ("done", 2), job.problems
    first = Interaction.objects.get(client=company, number="А-17")
    assert first.amount == Decimal("13755.00")  # 10 × 1 250,50 + 100 × 12.5
    assert [i["name"] for i in first.items] == ["Бумага А4", "Ручки"]
    serial = Interaction.objects.get(number="А-18")
    assert timezone.localtime(serial.occurred_at).date() == dt.date(2024, 2, 1)  # serial 45323
    again = import_file(alice, write_csv(tmp_path, PURCHASES, name="again.csv"), "purchases")
    assert (again.created, again.skipped) == (0, 2)


def test_a_manager_cannot_update_or_attach_to_clients_of_others(alice, carol, tmp_path):
    services.create_client(
        carol, "person", {"last_name": "Чужой"}, phones=[PhoneIn("+79035550000")]
    )
    path = write_csv(tmp_path, "Фамилия,Телефон\nЧужой,89035550000\n")
    job = import_file(alice, path, on_duplicate="update")
    assert job.status == "rejected"
    assert "may not change" in job.problems[0]["message"]
    calls = write_csv(tmp_path, "Телефон,Тип,Дата\n89035550000,call,01.01.2024\n", name="c.csv")
    job = import_file(alice, calls, "interactions")
    assert job.status == "rejected" and job.problems[0]["field"] == "client_phone"
    assert not Interaction.objects.exists()


def test_owner_column_needs_the_right_to_give_clients_away(alice, bob, admin, tmp_path):
    path = write_csv(tmp_path, "Фамилия,Ответственный\nНовиков,bob\n")
    job = import_file(alice, path)
    assert job.status == "rejected" and job.problems[0]["field"] == "owner"
    job = import_file(
        admin, write_csv(tmp_path, "Фамилия,Ответственный\nНовиков,bob\n", name="b.csv")
    )
    assert Client.objects.get().owner == bob


def test_formulas_are_stored_as_text_and_neutralised_on_export(alice, tmp_path):
    path = write_csv(tmp_path, 'Фамилия,Имя\n"=HYPERLINK(""http://evil"")",@SUM(A1)\n')
    job = import_file(alice, path)
    client = Client.objects.get()
    assert client.last_name == '=HYPERLINK("http://evil")' and client.first_name == "@SUM(A1)"
    assert job.status == "done"


@pytest.mark.parametrize(
    "birthday", ["01.02.1980", "1980-02-01", "01/02/1980", "29252", "1980-02-01T00:00:00"]
)
def test_dates_in_several_formats(alice, tmp_path, birthday):
    import_file(alice, write_csv(tmp_path, f"Фамилия,Дата рождения\nИванов,{birthday}\n"))
    assert Client.objects.get().birthday == dt.date(1980, 2, 1)


def test_spreadsheets_and_vcards(alice, tmp_path):
    rows = [
        ["Фамилия", "Имя", "Телефон", "Дата рождения"],
        ["Орлов", "Олег", 79161234567, dt.date(1990, 5, 6)],
    ]
    for writer in (write_xlsx, write_ods, write_xls):
        Client.all_objects.all().delete()
        job = import_file(alice, writer(tmp_path, rows))
        assert job.status == "done", (writer.__name__, job.problems, job.error)
        client = Client.objects.get()
        assert client.primary_phone == "+79161234567", writer.__name__
    Client.all_objects.all().delete()
    card = vcard(
        "N:Смирнова;Ольга;Петровна;;",
        "FN:Ольга Смирнова",
        "TEL;TYPE=CELL:8 903 111-22-33",
        "EMAIL:olga@example.ru",
        "ORG:ООО Вектор",
        "TITLE:Юрист",
    )
    job = import_file(alice, write_vcf(tmp_path, card))
    person = Client.objects.get(kind="person")
    assert (person.name, person.primary_email) == ("Смирнова Ольга Петровна", "olga@example.ru")
    assert Employment.objects.get().role == "lawyer"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: write_bytes(p, b""), "empty"),
        (lambda p: write_csv(p, "Фамилия;Имя\n"), "no rows"),
        (lambda p: zip_bomb(p), "damaged or too large"),
        (lambda p: xlsx_with_external_entity(p), "entity"),
        (lambda p: write_bytes(p, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "clients.xlsx"), "not"),
        (
            lambda p: write_bytes(p, "Фамилия\nИванов\n".encode() + "Петров\n".encode("cp1251")),
            "encoding",
        ),
    ],
)
def test_bad_files_are_refused_with_a_message_and_nothing_is_kept(alice, tmp_path, make, message):
    path = make(tmp_path)
    with path.open("rb") as stream, pytest.raises(ValidationError) as caught:
        imports.upload(alice, "persons", path.name, stream, path.stat().st_size)
    assert message in " ".join(caught.value.messages)
    assert not Client.objects.exists()
    from kartoteka.transfer.models import ImportJob

    assert not ImportJob.objects.exists()


def test_ragged_rows_and_giant_cells_are_named(alice, tmp_path):
    text = "Фамилия;Имя\nИванов;Иван;лишнее\nПетров;Пётр\n" + "Сидоров;" + "я" * 120_000 + "\n"
    job = import_file(alice, write_csv(tmp_path, text), atomic=False)
    assert job.status == "failed" and "Row 4" in job.error  # a giant cell stops the whole file
    assert not Client.objects.exists()
    job = import_file(
        alice,
        write_csv(tmp_path, "Фамилия;Имя\nИванов;Иван;лишнее\nПетров;Пётр\n", name="r.csv"),
        atomic=False,
    )
    assert (job.created, job.rejected) == (1, 1)
    assert job.problems[0]["row"] == 2 and "3 cells" in job.problems[0]["message"]


def test_numbers_with_spaces_and_commas(alice, tmp_path):
    company = services.create_client(
        alice, "company", {"company_name": "Ромашка", "inn": "7707083893"}
    )
    text = (
        "ИНН клиента;Номер;Дата;Сумма\n"
        "7707083893;1;01.01.2024;1 234 567,89\n7707083893;2;01.01.2024;1,234.50\n"
    )
    job = import_file(alice, write_csv(tmp_path, text), "purchases")
    assert job.status == "done", job.problems
    amounts = sorted(Interaction.objects.filter(client=company).values_list("amount", flat=True))
    assert amounts == [Decimal("1234.50"), Decimal("1234567.89")]


XSS = "<img src=x onerror=alert(1)>"


def test_hostile_names_and_cells_stay_inert(alice, alice_client, tmp_path, media):
    from django.urls import reverse

    path = write_csv(tmp_path, f"Фамилия,{XSS}\n{XSS},x\n", name="a.csv")
    with path.open("rb") as stream:
        job = imports.upload(alice, "persons", f"../../{XSS}.csv", stream, path.stat().st_size)
    stored = list(media.rglob("*"))
    assert all(media in p.parents for p in stored)  # nothing outside the job's directory
    assert all(p.name in ("source", str(job.pk), "imports") for p in stored)
    imports.configure(alice, job, ["last_name", ""])
    from kartoteka.transfer import importer

    job.dry_run = True
    importer.run_job(job)
    page = alice_client.get(reverse("import_job", args=[job.pk])).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_mapping_cannot_reach_fields_outside_the_import(alice, tmp_path):
    path = write_csv(tmp_path, "Фамилия,x,y,z\nИванов,1,2,3\n")
    with path.open("rb") as stream:
        job = imports.upload(alice, "persons", path.name, stream, path.stat().st_size)
    for field in ("deleted_at", "version", "created_by", "is_superuser", "owner__password"):
        with pytest.raises(ValidationError) as caught:
            imports.configure(alice, job, ["last_name", field, "", ""])
        assert "mapping.1" in caught.value.message_dict


def test_an_over_long_client_id_is_named_not_dropped(alice, tmp_path):
    text = f"Код клиента;Тип;Дата\n{'X' * 101};call;01.01.2024\n"
    job = import_file(
        alice,
        write_csv(tmp_path, text),
        "interactions",
        ["client_external_id", "kind", "occurred_at"],
    )
    assert job.status == "rejected"
    assert [p["field"] for p in job.problems] == ["client_external_id"]
    assert "100" in job.problems[0]["message"]
