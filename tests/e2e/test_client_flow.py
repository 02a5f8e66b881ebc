"""The issue's main flow, in a real browser: company, person at it, a call, search, timelines."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

CARD_URL = re.compile(r"/clients/(\d+)/$")
SUMMARY = "Asked for a quote on 40 chairs"


def card_id(page) -> int:  # type: ignore[no-untyped-def]
    match = CARD_URL.search(page.url)
    assert match, f"not on a card: {page.url}"
    return int(match.group(1))


def save(page) -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()


def create_company_in_browser(page) -> int:  # type: ignore[no-untyped-def]
    page.get_by_role("navigation").get_by_role("link", name="New company").click()
    expect(page).to_have_url(re.compile(r"/clients/new/company/$"))
    page.fill("#id_company_name", "Ромашка")
    page.fill("#id_legal_form", "ООО")
    page.fill("#id_inn", "7707083893")
    page.fill("#id_phone-0-number", "+7 495 111-22-33")
    page.fill("#id_email-0-email", "Info@Romashka.example")
    save(page)
    company_id = card_id(page)
    expect(page.locator("#client-name")).to_have_text("ООО Ромашка")
    return company_id


def person_call_search_timeline(page, company_id: int) -> None:  # type: ignore[no-untyped-def]
    """From the company's card on: a person there, a call, the list search, both timelines."""
    from kartoteka.activities.models import Interaction
    from kartoteka.clients.models import Client

    # A person working there, from the company's card.
    page.get_by_role("link", name="New person here").click()
    expect(page).to_have_url(re.compile(rf"/clients/new/person/\?company={company_id}$"))
    page.fill("#id_last_name", "Рябов")
    page.fill("#id_first_name", "Иван")
    page.fill("#id_phone-0-number", "+7 916 123-45-67")
    page.select_option("#id_job-role", "director")
    save(page)
    person_id = card_id(page)
    person_url = page.url
    expect(page.locator("#client-name")).to_have_text("Рябов Иван")
    expect(page.locator("#links")).to_contain_text("ООО Ромашка")

    # A call from the quick form: htmx swaps the timeline in, the page stays where it is.
    page.evaluate("window.__kartotekaNoReload = 'still here'")
    call = page.locator("#form-call")
    call.locator("[name=call-direction]").select_option("in")
    call.locator("[name=call-minutes]").fill("4.5")
    call.locator("[name=call-result]").fill("quote requested")
    call.locator("[name=call-summary]").fill(SUMMARY)
    with page.expect_response(lambda r: f"/clients/{person_id}/log/call/" in r.url) as posted:
        call.get_by_role("button", name="Save").click()
    assert posted.value.status == 200
    timeline = page.locator("#timeline")
    expect(timeline.locator(".timeline-item.kind-call")).to_have_count(1)
    expect(timeline).to_contain_text(SUMMARY)
    expect(timeline).to_contain_text("quote requested")
    assert page.evaluate("window.__kartotekaNoReload") == "still here", "the page reloaded"
    assert page.url == person_url
    # The form came back empty, ready for the next call.
    expect(page.locator("#form-call [name=call-summary]")).to_have_value("")
    call_row = Interaction.objects.get(client_id=person_id)
    assert (call_row.kind, call_row.direction, call_row.duration_seconds) == ("call", "in", 270)

    # The list finds the person by the phone typed another way; htmx filters in place.
    page.get_by_role("navigation").get_by_role("link", name="Clients", exact=True).click()
    expect(page).to_have_url(re.compile(r"/clients/$"))
    page.evaluate("window.__kartotekaNoReload = 'list'")
    rows = page.locator("#rows")
    expect(rows).to_contain_text("ООО Ромашка")
    search = page.locator("#id_q")
    search.fill("8 (916) 123-45-67")
    with page.expect_response(lambda r: "/clients/?" in r.url and "q=" in r.url):
        search.press("Enter")
    expect(rows.get_by_role("link", name="Рябов Иван")).to_be_visible()
    expect(rows).not_to_contain_text("ООО Ромашка")
    assert page.evaluate("window.__kartotekaNoReload") == "list", "the search reloaded the page"

    # Open the person from the results: the call is on the timeline.
    rows.get_by_role("link", name="Рябов Иван").click()
    expect(page).to_have_url(person_url)
    expect(page.locator("#timeline")).to_contain_text(SUMMARY)

    # The company lists the person, and its timeline shows the person's call.
    page.locator("#links").get_by_role("link", name="ООО Ромашка").click()
    expect(page).to_have_url(re.compile(rf"/clients/{company_id}/$"))
    expect(page.locator("#links")).to_contain_text("Рябов Иван")
    expect(page.locator("#links")).to_contain_text("director")
    company_timeline = page.locator("#timeline")
    expect(company_timeline).to_contain_text(SUMMARY)
    expect(company_timeline.get_by_role("link", name="Рябов Иван")).to_be_visible()

    assert Client.objects.filter(kind="person", last_name="Рябов").count() == 1
    assert page.errors.dialogs == []
    assert page.errors.csp == [], f"CSP violations: {page.errors.csp}"
    assert page.errors.all() == [], f"errors in the browser: {page.errors.all()}"
    assert page.errors.http == [], f"failed requests: {page.errors.http}"


def test_main_flow(page, user):  # type: ignore[no-untyped-def]
    """Log in, create a company and a person there, log a call, find the person, see the call."""
    login(page)
    company_id = create_company_in_browser(page)
    person_call_search_timeline(page, company_id)
