"""Exports of the client list: rights, field rules, formula injection, limits and approval."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client as Browser
from django.urls import reverse

from kartoteka.accounts.models import Role
from kartoteka.clients import services
from kartoteka.clients.models import Client, Employment
from kartoteka.clients.services import EmailIn, PhoneIn
from kartoteka.core.models import AuditEntry, Notification
from kartoteka.transfer import services as exports
from kartoteka.transfer.models import Export
from tests.api import Api

FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.fixture
def clients(alice, carol):
    mine = [
        services.create_client(
            alice, "person", {"last_name": name}, phones=[PhoneIn(f"+7916123456{i}")]
        )
        for i, name in enumerate(FORMULAS)
    ]
    services.create_client(carol, "person", {"last_name": "Чужой"})
    return mine


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_export_own_clients_as_csv_with_formulas_neutralised(alice_client, alice, clients):
    response = alice_client.post(
        reverse("export_new"), {"query": "col=name&col=phone", "format": "csv"}
    )
    assert response.status_code == 302
    export = Export.objects.get()
    assert (export.rows, export.status) == (len(FORMULAS), "approved")
    rows = read_csv(alice_client.get(reverse("export_download", args=[export.pk])))
    assert rows[0] == ["name", "phone"]
    names = sorted(r[0] for r in rows[1:])
    assert "Чужой" not in names
    assert all(n.startswith("'") for n in names), names
    assert AuditEntry.objects.get(action="export").details["rows"] == len(FORMULAS)
    again = alice_client.get(reverse("export_download", args=[export.pk]))
    assert again.status_code == 403  # downloaded once


def test_xlsx_export(alice_client, clients):
    alice_client.post(reverse("export_new"), {"query": "", "format": "xlsx"})
    response = alice_client.get(reverse("export_download", args=[Export.objects.get().pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"PK")


def test_hidden_fields_are_not_exported(client, db, clients):
    from tests.conftest import make_user

    marketer = make_user("mark", role="marketer")
    Role.objects.filter(code="marketer").update(export_daily_rows=1000)
    marketer.role.field_rules.create(field="contacts", access="hidden")
    client.force_login(marketer)
    client.post(reverse("export_new"), {"query": "col=name&col=phone", "format": "csv"})
    rows = read_csv(client.get(reverse("export_download", args=[Export.objects.get().pk])))
    assert rows[0] == ["name"]


def test_roles_without_export_right_are_refused(client, db, clients):
    from tests.conftest import make_user

    analyst = make_user("ann", role="analyst")
    client.force_login(analyst)
    assert client.post(reverse("export_new"), {"query": "", "format": "csv"}).status_code == 403
    assert not Export.objects.exists()


def test_over_the_limit_waits_for_the_head(alice_client, alice, helen, admin, clients):
    Role.objects.filter(code="manager").update(export_daily_rows=3)
    alice_client.post(reverse("export_new"), {"query": "", "format": "csv"})
    export = Export.objects.get()
    assert export.status == "pending"
    assert alice_client.get(reverse("export_download", args=[export.pk])).status_code == 403
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"helen", "admin"}
    head = Browser()
    head.force_login(helen)
    assert export in head.get(reverse("exports")).context["pending"]
    head.post(reverse("export_decide", args=[export.pk]), {"decision": "approve"})
    export.refresh_from_db()
    assert export.status == "approved" and export.decided_by == helen
    assert alice_client.get(reverse("export_download", args=[export.pk])).status_code == 200


def test_only_the_head_or_an_admin_decides(alice_client, bob, clients, client):
    Role.objects.filter(code="manager").update(export_daily_rows=1)
    alice_client.post(reverse("export_new"), {"query": "", "format": "csv"})
    export = Export.objects.get()
    client.force_login(bob)
    assert (
        client.post(reverse("export_decide", args=[export.pk]), {"decision": "approve"}).status_code
        == 403
    )
    export.refresh_from_db()
    assert export.status == "pending"


def test_near_the_limit_alerts_admins(alice_client, admin, clients):
    Role.objects.filter(code="manager").update(export_daily_rows=len(FORMULAS) + 1)
    alice_client.post(reverse("export_new"), {"query": "", "format": "csv"})
    assert Notification.objects.filter(user=admin, text__contains="alice").exists()


def test_bad_filters_are_named(alice_client, clients):
    response = alice_client.post(
        reverse("export_new"), {"query": "sort=owner__password", "format": "csv"}, follow=True
    )
    assert "Cannot sort by" in response.text
    assert not Export.objects.exists()


def test_api_export(alice, clients):
    api = Api(alice)
    created = api.post("/exports", {"query": "col=name", "format": "csv"})
    assert created.status_code == 201 and created.json()["rows"] == len(FORMULAS)
    download = api.get(f"/exports/{created.json()['id']}/download")
    assert download.status_code == 200
    assert api.post("/exports", {"query": "", "format": "pdf"}).status_code == 422
    assert api.post("/exports", {"query": "", "format": "csv", "owner": 1}).status_code == 422


def test_limit_counts_the_day(alice, clients):
    Role.objects.filter(code="manager").update(export_daily_rows=10)
    exports.request_export(alice, "", "csv")
    assert exports.used_today(alice) == len(FORMULAS)


# --- vCard ------------------------------------------------------------------------------------

LONG_NOTE = "Постоянный клиент, звонить после обеда; любит скидки. " * 4


def read_vcards(response) -> list[list[tuple[str, str]]]:
    """The cards of a vCard download as (property with parameters, raw value) pairs.

    Checks the framing on the way: CRLF line ends, physical lines of at most 75 octets cut on
    UTF-8 character boundaries, continuation lines starting with one space.
    """
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    body = b"".join(response.streaming_content)
    assert body.endswith(b"\r\n")
    physical = body.split(b"\r\n")[:-1]
    for line in physical:
        assert len(line) <= 75, line
        assert b"\r" not in line and b"\n" not in line
        line.decode("utf-8")  # a fold never splits a character
    unfolded: list[str] = []
    for line in (p.decode("utf-8") for p in physical):
        if line.startswith(" "):
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    cards: list[list[tuple[str, str]]] = []
    for line in unfolded:
        name, _sep, value = line.partition(":")
        if line == "BEGIN:VCARD":
            cards.append([])
        cards[-1].append((name, value))
    return cards


def components(value: str) -> list[str]:
    """A structured value split on unescaped semicolons, each part unescaped."""
    parts, current, chars = [], "", iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars)
            current += "\n" if following in "nN" else following
        elif char == ";":
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def prop(card: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in card if key == name]


def by_uid(cards: list[list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
    return {prop(card, "UID")[0]: card for card in cards}


@pytest.fixture
def people(alice, carol):
    """Two persons of alice's, one at a company; a company; a stranger's person."""
    ivanov = services.create_client(
        alice,
        "person",
        {
            "last_name": "Иванов",
            "first_name": "Иван",
            "middle_name": "Иванович",
            "birthday": dt.date(1980, 5, 17),
            "address": "Москва, ул. Ленина, д. 1\nкв. 2",
            "description": LONG_NOTE,
        },
        phones=[PhoneIn("+79161234567"), PhoneIn("8 (495) 123-45-67", kind="work")],
        emails=[EmailIn("Ivan@Example.com"), EmailIn("ivan@home.example", kind="home")],
    )
    petrova = services.create_client(alice, "person", {"first_name": "Мария"})
    company = services.create_client(
        alice, "company", {"company_name": "Ромашка", "legal_form": "ООО"}
    )
    services.link_person(alice, ivanov, company, "accountant", "Главный бухгалтер")
    services.create_client(carol, "person", {"last_name": "Чужой"})
    return ivanov, petrova, company


def test_vcard_export_through_the_browser(alice_client, people):
    ivanov, petrova, _company = people
    assert 'name="format" value="vcf"' in alice_client.get(reverse("clients:list")).text
    response = alice_client.post(reverse("export_new"), {"query": "", "format": "vcf"})
    assert response.status_code == 302
    export = Export.objects.get()
    assert (export.format, export.rows, export.status) == ("vcf", 2, "approved")
    assert "vCard" in alice_client.get(reverse("exports")).text
    response = alice_client.get(reverse("export_download", args=[export.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="clients-{export.pk}.vcf"'
    cards = by_uid(read_vcards(response))
    assert set(cards) == {f"kartoteka-client-{ivanov.pk}", f"kartoteka-client-{petrova.pk}"}

    card = cards[f"kartoteka-client-{ivanov.pk}"]
    assert card[:2] == [("BEGIN", "VCARD"), ("VERSION", "3.0")] and card[-1] == ("END", "VCARD")
    assert components(prop(card, "N")[0]) == ["Иванов", "Иван", "Иванович", "", ""]
    assert prop(card, "FN") == ["Иванов Иван Иванович"]
    assert prop(card, "TEL;TYPE=CELL") == ["+79161234567"]
    assert prop(card, "TEL;TYPE=WORK") == ["+74951234567"]
    assert prop(card, "EMAIL;TYPE=INTERNET") == ["ivan@example.com", "ivan@home.example"]
    assert components(prop(card, "ORG")[0]) == ["ООО Ромашка"]
    assert prop(card, "TITLE") == ["Главный бухгалтер"]
    assert prop(card, "BDAY") == ["1980-05-17"]
    assert components(prop(card, "ADR;TYPE=HOME")[0]) == [
        *["", "", "Москва, ул. Ленина, д. 1\nкв. 2"],
        *["", "", "", ""],
    ]
    assert components(prop(card, "NOTE")[0]) == [LONG_NOTE]

    other = cards[f"kartoteka-client-{petrova.pk}"]
    assert components(prop(other, "N")[0]) == ["", "Мария", "", "", ""]
    assert not [key for key, _v in other if key.split(";")[0] in ("TEL", "EMAIL", "ORG", "ADR")]

    audit = AuditEntry.objects.get(action="export").details
    assert (audit["rows"], audit["format"]) == (2, "vcf")
    assert alice_client.get(reverse("export_download", args=[export.pk])).status_code == 403


def test_long_cyrillic_note_is_folded_at_75_octets(alice_client, people):
    alice_client.post(reverse("export_new"), {"query": "", "format": "vcf"})
    response = alice_client.get(reverse("export_download", args=[Export.objects.get().pk]))
    body = b"".join(response.streaming_content)
    start = body.index(b"\r\nNOTE:") + 2
    note = body[start : body.index(b"\r\nUID:", start)].split(b"\r\n")
    assert len(note) > 5  # 440 characters of two octets each
    assert len(note[0]) in (74, 75) and all(line.startswith(b" ") for line in note[1:])
    assert all(len(line) >= 73 for line in note[:-1])  # full lines, but for a split character
    unfolded = (note[0] + b"".join(line[1:] for line in note[1:])).decode("utf-8")
    assert components(unfolded.removeprefix("NOTE:")) == [LONG_NOTE]


def test_vcard_leaves_companies_out_of_the_count(alice, alice_client, people):
    assert exports.request_export(alice, "", "csv").rows == 3
    assert exports.request_export(alice, "", "vcf").rows == 2
    assert exports.used_today(alice) == 5
    response = alice_client.post(
        reverse("export_new"), {"query": "kind=company", "format": "vcf"}, follow=True
    )
    assert "Nothing to export: no persons match." in response.text
    assert Export.objects.count() == 2


def test_vcard_counts_against_the_limit_as_persons(alice, people):
    Role.objects.filter(code="manager").update(export_daily_rows=2)
    alice.refresh_from_db()
    alice.role.refresh_from_db()
    assert exports.request_export(alice, "", "csv").status == "pending"  # 3 rows
    assert exports.request_export(alice, "", "vcf").status == "approved"  # 2 persons


def test_vcard_hides_contacts_from_a_role_that_may_not_see_them(client, people):
    from tests.conftest import make_user

    ivanov, _petrova, _company = people
    marketer = make_user("mark", role="marketer")
    Role.objects.filter(code="marketer").update(export_daily_rows=1000)
    marketer.role.field_rules.create(field="contacts", access="hidden")
    client.force_login(marketer)
    client.post(reverse("export_new"), {"query": "", "format": "vcf"})
    export = Export.objects.get()
    cards = by_uid(read_vcards(client.get(reverse("export_download", args=[export.pk]))))
    card = cards[f"kartoteka-client-{ivanov.pk}"]
    assert prop(card, "FN") == ["Иванов Иван Иванович"]
    assert prop(card, "TITLE") == ["Главный бухгалтер"]
    names = {key.split(";")[0] for c in cards.values() for key, _v in c}
    assert not names & {"TEL", "EMAIL", "ADR"}


def test_vcard_names_only_current_jobs_at_companies_the_user_may_see(
    alice, alice_client, carol, people
):
    _ivanov, petrova, _company = people
    theirs = services.create_client(carol, "company", {"company_name": "Чужая фирма"})
    services.link_person(carol, petrova, theirs, "director", "Директор")
    former = services.create_client(alice, "company", {"company_name": "Бывшая"})
    job = services.link_person(alice, petrova, former, "lawyer", "Юрист")
    Employment.objects.filter(pk=job.pk).update(is_current=False)
    alice_client.post(reverse("export_new"), {"query": "", "format": "vcf"})
    response = alice_client.get(reverse("export_download", args=[Export.objects.get().pk]))
    card = by_uid(read_vcards(response))[f"kartoteka-client-{petrova.pk}"]
    assert prop(card, "ORG") == [] and prop(card, "TITLE") == []


def test_vcard_values_cannot_inject_properties(alice, alice_client):
    evil = services.create_client(alice, "person", {"last_name": "Зло"})
    Client.objects.filter(pk=evil.pk).update(
        last_name="Evil\r\nTEL:+1;x,y\\",
        first_name="A\nEMAIL:spy@example.com",
        name="Evil\r\nTEL:+1;x,y\\ A",
        description="line\rEND:VCARD\r\nBEGIN:VCARD",
    )
    alice_client.post(reverse("export_new"), {"query": "", "format": "vcf"})
    response = alice_client.get(reverse("export_download", args=[Export.objects.get().pk]))
    [card] = read_vcards(response)
    assert [key for key, _v in card].count("BEGIN") == 1
    assert not [key for key, _v in card if key.startswith(("TEL", "EMAIL"))]
    n = prop(card, "N")[0]
    assert n.startswith("Evil\\nTEL:+1\\;x\\,y\\\\;A\\nEMAIL:spy@example.com;")
    assert components(n)[:2] == ["Evil\nTEL:+1;x,y\\", "A\nEMAIL:spy@example.com"]
    assert components(prop(card, "NOTE")[0]) == ["line\nEND:VCARD\nBEGIN:VCARD"]


def test_vcard_api_export(alice, people):
    ivanov, _petrova, _company = people
    api = Api(alice)
    created = api.post("/exports", {"query": "q=Иванов", "format": "vcf"})
    assert created.status_code == 201, created.content
    assert (created.json()["rows"], created.json()["format"]) == (1, "vcf")
    download = api.get(f"/exports/{created.json()['id']}/download")
    assert download.status_code == 200
    assert download["Content-Disposition"].endswith('.vcf"')
    [card] = read_vcards(download)
    assert prop(card, "UID") == [f"kartoteka-client-{ivanov.pk}"]
    assert prop(card, "TEL;TYPE=CELL") == ["+79161234567"]
    assert prop(card, "ORG") == ["ООО Ромашка"]
    assert api.get(f"/exports/{created.json()['id']}/download").status_code == 403
    assert api.post("/exports", {"query": "", "format": "vcard"}).status_code == 422


def test_vcard_export_reads_no_row_per_person(alice, alice_client, django_assert_max_num_queries):
    companies = [
        services.create_client(alice, "company", {"company_name": f"Фирма {i}"}) for i in range(3)
    ]
    for i in range(30):
        person = services.create_client(
            alice,
            "person",
            {"last_name": f"Сотрудник {i}", "address": f"Улица {i}"},
            phones=[PhoneIn(f"+791612345{i:02d}"), PhoneIn(f"+749512345{i:02d}", kind="work")],
            emails=[EmailIn(f"p{i}@example.com")],
        )
        services.link_person(alice, person, companies[i % 3], "employee", f"Должность {i}")
    export = exports.request_export(alice, "", "vcf")
    assert export.rows == 30
    with django_assert_max_num_queries(24):  # fixed cost; one query a person would be 50+
        response = alice_client.get(reverse("export_download", args=[export.pk]))
        cards = read_vcards(response)
    assert len(cards) == 30
    assert all(len(prop(c, "TEL;TYPE=CELL")) == 1 and prop(c, "ORG") for c in cards)


def test_vcard_escaping_and_folding_units():
    from kartoteka.transfer import vcard

    assert vcard.escape("a\\b,c;d\r\ne\rf\ng\u2028h\x00") == "a\\\\b\\,c\\;d\\ne\\nf\\ng\\nh"
    line = "NOTE:" + "я€😀a" * 40
    folded = vcard.fold(line).encode("utf-8")
    physical = folded.split(b"\r\n")
    assert physical[-1] == b"" and all(len(p) <= 75 for p in physical)
    assert b"".join(p[1:] if i else p for i, p in enumerate(physical)).decode() == line
    assert vcard.fold("SHORT:x") == "SHORT:x\r\n"


def test_vcard_export_in_several_chunks(alice, alice_client, people, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 2)
    for i in range(3):
        services.create_client(
            alice, "person", {"last_name": f"Ещё {i}"}, phones=[PhoneIn(f"+7916765432{i}")]
        )
    export = exports.request_export(alice, "", "vcf")
    cards = read_vcards(alice_client.get(reverse("export_download", args=[export.pk])))
    assert len(cards) == export.rows == 5
    assert [len(prop(c, "TEL;TYPE=CELL")) for c in cards] == [1, 0, 1, 1, 1]
    assert [prop(c, "ORG") for c in cards][:2] == [["ООО Ромашка"], []]
