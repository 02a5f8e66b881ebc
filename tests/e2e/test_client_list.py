"""The client list in the browser: keyset "More" appends rows in place, filters keep working."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


@pytest.fixture
def twelve_people(user, settings):  # type: ignore[no-untyped-def]
    from kartoteka.clients import services

    settings.LIST_PAGE_SIZE = 5  # the live server runs in this process: three pages of people
    people = [
        services.create_client(
            user, "person", {"last_name": f"Тестов-{n:02d}", "first_name": "Иван", "owner": user}
        )
        for n in range(1, 13)
    ]
    services.create_client(user, "company", {"company_name": "Ромашка", "legal_form": "ООО"})
    return people


def names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#rows td.name a").all_inner_texts()


def test_more_appends_the_next_page_in_place(page, user, twelve_people):  # type: ignore[no-untyped-def]
    login(page)
    page.goto("/clients/?kind=person")
    page.evaluate("window.__kartotekaNoReload = 'list'")
    rows = page.locator("#rows td.name")
    expect(rows).to_have_count(5)

    more = page.locator("#more").get_by_role("link", name="More")
    more.click()
    expect(rows).to_have_count(10)
    page.locator("#more").get_by_role("link", name="More").click()
    expect(rows).to_have_count(12)
    expect(page.locator("#more")).to_have_count(0)

    shown = names(page)
    assert sorted(shown) == sorted(p.name for p in twelve_people)
    assert len(set(shown)) == 12, "a row came twice"
    assert page.evaluate("window.__kartotekaNoReload") == "list", "More reloaded the page"
    assert page.errors.all() == [] and page.errors.http == []


def test_filter_then_more_keeps_the_filter(page, user, twelve_people):  # type: ignore[no-untyped-def]
    login(page)
    page.goto("/clients/")
    rows = page.locator("#rows td.name")
    expect(rows).to_have_count(5)
    page.evaluate("window.__kartotekaNoReload = 'list'")

    with page.expect_response(lambda r: "kind=company" in r.url):
        page.select_option("#id_kind", "company")
    expect(rows).to_have_count(1)
    expect(page.locator("#more")).to_have_count(0)
    assert "kind=company" in page.url  # hx-push-url keeps the filter in the address

    with page.expect_response(lambda r: "kind=person" in r.url):
        page.select_option("#id_kind", "person")
    expect(rows).to_have_count(5)
    page.locator("#more").get_by_role("link", name="More").click()
    expect(rows).to_have_count(10)
    assert all(name.startswith("Тестов-") for name in names(page))
    assert page.evaluate("window.__kartotekaNoReload") == "list"
    assert page.errors.all() == [] and page.errors.http == []
