"""A deal's line items and a quote in a real browser: choose a product, save, the amount follows,
issue a quote and download its PDF; nothing breaks the CSP."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def test_items_and_a_quote(page, user, tmp_path):  # type: ignore[no-untyped-def]
    from kartoteka.clients import services as client_services
    from kartoteka.sales import catalog, services
    from kartoteka.sales.models import Deal, Document

    lathe = catalog.save_product(None, None, {"name": "Станок <b>ТВ-16</b>", "price": 1200})
    client = client_services.create_client(
        user, "company", {"company_name": "Ромашка", "owner": user}
    )
    deal = services.create_deal(user, {"title": "Поставка станков", "client": client})
    login(page)
    page.goto(f"/deals/{deal.pk}/")
    items = page.locator("#deal-items")
    expect(items).to_contain_text("No line items.")
    items.get_by_text("Edit line items").click()
    row = items.locator(".item-row").first
    row.locator("select[name=product]").select_option(str(lathe.pk))
    row.locator("input[name=quantity]").fill("3")
    row.locator("input[name=discount]").fill("10")
    second = items.locator(".item-row").nth(1)
    second.locator("input[name=name]").fill("Доставка")
    second.locator("input[name=price]").fill("500")
    with page.expect_navigation():
        items.get_by_role("button", name="Save line items").click()
    expect(page.locator("#items-total")).to_contain_text("3,740.00")
    expect(page.locator("#deal-fields")).to_contain_text("3,740.00 RUB")
    expect(page.locator("#items-table")).to_contain_text("Станок <b>ТВ-16</b>")
    assert Deal.objects.get().amount == Decimal("3740.00")
    documents = page.locator("#deal-documents")
    with page.expect_navigation():
        documents.get_by_role("button", name="Issue a quote").click()
    link = page.locator("#documents-list a").first
    expect(link).to_contain_text("№ 1")
    with page.expect_download() as info:
        link.click()
    target = tmp_path / "quote.pdf"
    info.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    assert Document.objects.get().number == 1
    if os.environ.get("KARTOTEKA_SCREENSHOTS"):
        page.screenshot(
            path=os.environ["KARTOTEKA_SCREENSHOTS"] + "/deal-items.png", full_page=True
        )
    assert page.errors.all() == []  # type: ignore[attr-defined]
