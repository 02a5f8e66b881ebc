"""Quotes and invoices: numbering per kind and year, frozen content, PDF downloads, access."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import translation

from kartoteka.clients import services as client_services
from kartoteka.core.permissions import Denied
from kartoteka.sales import catalog, documents
from kartoteka.sales.catalog import ItemIn
from kartoteka.sales.models import Deal, Document
from tests.api import Api
from tests.sales import deal

pytestmark = pytest.mark.django_db
XSS = '"><img src=x onerror=alert(1)>'
DAY = dt.date(2026, 3, 5)
REQUISITES = {
    "name": "ООО «Картотека»",
    "inn": "7707083893",
    "kpp": "773601001",
    "bank": "ПАО Сбербанк",
    "bik": "044525225",
    "account": "40702810000000000001",
    "correspondent_account": "30101810400000000225",
    "director": "Иванов И. И.",
}


def with_items(owner: Any, *lines: ItemIn) -> Deal:
    client = client_services.create_client(
        None, "company", {"company_name": "Ромашка", "inn": "7707083893", "owner": owner}
    )
    made = deal(owner, client)
    sent = list(lines) or [ItemIn(name="Станок", quantity="2", price="1200", discount="10")]
    return catalog.set_items(None, made, made.version, sent)


@pytest.fixture
def requisites(db):
    return catalog.save_requisites(None, REQUISITES)


def test_numbering_per_kind_and_year(alice, requisites):
    made = with_items(alice)
    numbers = [
        (d.kind, d.year, d.number)
        for d in (
            documents.issue(alice, made, "quote", DAY),
            documents.issue(alice, made, "quote", DAY),
            documents.issue(alice, made, "invoice", DAY),
            documents.issue(alice, made, "quote", dt.date(2027, 1, 1)),
            documents.issue(alice, made, "invoice", DAY),
        )
    ]
    assert numbers == [
        ("quote", 2026, 1),
        ("quote", 2026, 2),
        ("invoice", 2026, 1),
        ("quote", 2027, 1),
        ("invoice", 2026, 2),
    ]


def test_frozen_content(alice, admin, requisites):
    made = with_items(alice)
    invoice = documents.issue(alice, made, "invoice", DAY)
    assert (invoice.total, invoice.vat, invoice.currency) == (
        Decimal("2160.00"),
        Decimal("360.00"),
        "RUB",
    )
    content = invoice.content
    assert content["supplier"]["inn"] == "7707083893" and content["buyer"]["name"] == "Ромашка"
    assert content["items"][0] | {} == {
        "n": 1,
        "name": "Станок",
        "quantity": "2",
        "unit": "",
        "price": "1200.00",
        "discount": "10",
        "vat_rate": 20,
        "total": "2160.00",
        "vat": "360.00",
    }
    assert (content["number"], content["date"]) == (1, "2026-03-05")
    catalog.save_requisites(admin, REQUISITES | {"name": "ООО «Другая»"})
    catalog.set_items(alice, made, made.version, [ItemIn(name="Пила", price="1")])
    invoice.refresh_from_db()
    assert invoice.content == content
    html = documents.render_html(invoice)
    assert "ООО «Картотека»" in html and "Станок" in html and "Пила" not in html


def test_refused_without_items_requisites_or_rights(alice, carol):
    made = deal(alice)
    with pytest.raises(ValidationError) as excinfo:
        documents.issue(alice, made, "quote", DAY)
    assert set(excinfo.value.message_dict) == {"items"}
    made = with_items(alice)
    with pytest.raises(ValidationError) as excinfo:
        documents.issue(alice, made, "invoice", DAY)
    assert set(excinfo.value.message_dict) == {"requisites"}
    with pytest.raises(ValidationError):
        documents.issue(alice, made, "receipt", DAY)
    with pytest.raises(Denied):
        documents.issue(carol, made, "quote", DAY)
    assert not Document.objects.exists()
    assert documents.issue(alice, made, "quote", DAY).number == 1  # a quote needs no requisites


def test_a_taken_number_is_retried(alice, monkeypatch):
    made = with_items(alice)
    documents.issue(alice, made, "quote", DAY)
    real, calls = documents.next_number, []

    def stale(kind: str, year: int) -> int:
        calls.append(kind)
        return 1 if len(calls) == 1 else real(kind, year)  # as if another issue just took 1

    monkeypatch.setattr(documents, "next_number", stale)
    assert documents.issue(alice, made, "quote", DAY).number == 2
    assert len(calls) == 2 and Document.objects.count() == 2


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="SQLite serialises writers; the race needs PostgreSQL",
)
@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
def test_two_issues_racing(alice):
    deals = [with_items(alice), with_items(alice)]
    barrier, found, failed = threading.Barrier(2), [], []

    def run(made: Deal) -> None:
        try:
            barrier.wait(5)
            found.append(documents.issue(alice, made, "quote", DAY).number)
        except Exception as exc:  # pragma: no cover - reported below
            failed.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(d,)) for d in deals]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not failed and sorted(found) == [1, 2]


def test_pdf_download_page_and_api(client, alice, carol, requisites):
    made = with_items(alice, ItemIn(name=XSS, price="100"))
    invoice = documents.issue(alice, made, "invoice", DAY)
    client.force_login(alice)
    url = f"/deals/catalog/deals/{made.pk}/documents/{invoice.pk}.pdf"
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == 'attachment; filename="invoice-2026-1.pdf"'
    listing = client.get(f"/deals/catalog/deals/{made.pk}/documents/").content.decode()
    assert url in listing and "Issue an invoice" in listing
    api = Api(alice).get(f"/sales/documents/{invoice.pk}/pdf")
    assert api.status_code == 200 and api.content.startswith(b"%PDF")
    assert api["Content-Disposition"].startswith("attachment")
    client.force_login(carol)
    assert client.get(url).status_code == 404
    assert Api(carol).get(f"/sales/documents/{invoice.pk}/pdf").status_code == 404
    assert Api(carol).get(f"/sales/documents/{invoice.pk}").status_code == 404
    other = f"/deals/catalog/deals/{made.pk + 1000}/documents/{invoice.pk}.pdf"
    client.force_login(alice)
    assert client.get(other).status_code == 404


def test_document_html_escaped_and_translated(alice, requisites):
    made = with_items(alice, ItemIn(name=XSS, price="100", quantity="3"))
    invoice = documents.issue(alice, made, "invoice", DAY)
    html = documents.render_html(invoice)
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Invoice No. 1 of 05.03.2026" in html and "Including VAT" in html
    assert "http://" not in html and "https://" not in html and "url(" not in html
    with translation.override("ru"):
        assert 'lang="ru"' in documents.render_html(invoice)


def test_issue_from_the_card_and_the_api(client, alice, bob, carol, requisites):
    made = with_items(alice)
    client.force_login(alice)
    url = f"/deals/catalog/deals/{made.pk}/documents/issue/"
    response = client.post(url, {"kind": "quote"})
    assert response.status_code == 302 and Document.objects.get().number == 1
    client.force_login(carol)
    assert client.post(url, {"kind": "quote"}).status_code == 404
    api = Api(alice)
    response = api.post(f"/sales/deals/{made.pk}/documents", {"kind": "invoice"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["number"], body["total"], body["vat"]) == (
        "invoice",
        1,
        "2160.00",
        "360.00",
    )
    assert body["content"]["items"][0]["name"] == "Станок"
    bad = api.post(f"/sales/deals/{made.pk}/documents", {"kind": "x"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "kind"]
    assert (
        Api(carol).post(f"/sales/deals/{made.pk}/documents", {"kind": "quote"}).status_code == 404
    )
    listed = api.get(f"/sales/deals/{made.pk}/documents").json()
    assert [d["kind"] for d in listed] == ["invoice", "quote"]
    assert Document.objects.count() == 2
