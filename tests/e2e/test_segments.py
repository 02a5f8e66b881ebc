"""Segments and analytics in a real browser, under the CSP: build a segment in the rule builder
(live preview count), save it, open the client list it filters; open a dashboard, switch a
chart to its table and drill down to the clients behind a number."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, login

pytestmark = pytest.mark.e2e


@pytest.fixture
def ada(e2e_db):  # type: ignore[no-untyped-def]
    from kartoteka.accounts.models import User

    return User.objects.create_superuser("ada", "ada@example.com", PASSWORD, first_name="Ada")


@pytest.fixture
def shop(ada):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from kartoteka.segments import dashboard_tallies
    from kartoteka.segments.recompute import recompute
    from tests.segments.factories import buy, client

    today = timezone.localdate().replace(day=1)
    for n in range(3):
        customer = client(f"Customer {n}", owner=ada, stage="customer")
        for back in (1, 2, 3):
            month = (today - dt.timedelta(days=28 * back)).replace(day=10)
            buy(customer, month, 1000 * (n + 1))
    for n in range(2):
        client(f"Lead {n}", owner=ada, stage="lead")
    recompute()
    dashboard_tallies.refresh()


def _settled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until htmx has settled a swap (new rows get their listeners only then)."""
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    page.wait_for_function(f"() => !document.querySelector('{busy}')")


def _clean(page) -> None:  # type: ignore[no-untyped-def]
    assert page.errors.exceptions == page.errors.csp == page.errors.console == [], page.errors.all()


def test_build_a_segment_and_open_its_clients(page, ada, shop):  # type: ignore[no-untyped-def]
    from kartoteka.segments.models import Segment

    login(page, "ada")
    page.get_by_role("navigation").get_by_role("link", name="Segments").click()
    page.get_by_role("link", name="New segment").click()
    expect(page.locator("#preview-count")).to_have_text("3")  # stage is customer
    page.locator("select[name='c-0-value']").select_option("lead")
    expect(page.locator("#preview-count")).to_have_text("2")
    page.locator("#add-condition").click()
    expect(page.locator("fieldset.condition")).to_have_count(2)
    _settled(page)
    page.locator("select[name='c-1-field']").select_option("purchases.count")
    expect(page.locator("input[name='c-1-days']")).to_be_visible()
    _settled(page)
    page.locator("select[name='c-1-op']").select_option("gte")
    _settled(page)
    page.locator("input[name='c-1-value']").fill("1")
    page.locator("input[name='c-1-value']").press("Tab")
    expect(page.locator("#preview-count")).to_have_text("0")  # leads never bought
    _settled(page)
    page.locator("fieldset.condition").nth(1).get_by_role("button").click()
    expect(page.locator("fieldset.condition")).to_have_count(1)
    expect(page.locator("#preview-count")).to_have_text("2")
    page.fill("#id_name", "Fresh leads")
    page.locator("#save-segment").click()
    expect(page.locator("h1")).to_contain_text("Fresh leads")
    segment = Segment.objects.get(name="Fresh leads")
    assert segment.rules["conditions"] == [{"field": "stage", "op": "eq", "value": "lead"}]
    expect(page.locator(".segment-count")).to_have_text("2")
    page.locator("#open-in-list").click()
    expect(page.locator("#analytics-filter")).to_be_visible()
    expect(page.locator("table.clients tbody tr")).to_have_count(2)
    _clean(page)


def test_dashboard_table_view_and_drill_down(page, ada, shop):  # type: ignore[no-untyped-def]
    login(page, "ada")
    page.get_by_role("navigation").get_by_role("link", name="Analytics").click()
    page.get_by_role("link", name="ABC × XYZ and RFM").click()
    card = page.locator("#chart-abcxyz")
    canvas = card.locator("canvas")
    expect(canvas).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.querySelector('#chart-abcxyz canvas'))"
    )
    card.get_by_role("tab", name="Table").click()
    table = card.locator("table")
    expect(table).to_be_visible()
    link = table.locator("a.drill").first
    number = int(link.inner_text())
    link.click()
    expect(page).to_have_url(re.compile(r"/clients/\?.*abc="))
    expect(page.locator("table.clients tbody tr")).to_have_count(number)
    _clean(page)
