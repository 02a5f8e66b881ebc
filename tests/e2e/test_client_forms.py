"""Forms in the browser: bad input, two people saving one card, hostile text, duplicate ids."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, login

pytestmark = pytest.mark.e2e

XSS = '"><img src=x onerror=alert(1)>'


def submit(page) -> int:  # type: ignore[no-untyped-def]
    """Click the form's Save and wait for the next page; the status of the form's POST.

    The duplicate hint posts the same form in the background, so the answer is told
    apart by its URL, not only by its method.
    """
    action = page.url
    with page.expect_response(lambda r: r.request.method == "POST" and r.url == action) as answer:
        page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()
    return answer.value.status


@pytest.fixture
def company(user):  # type: ignore[no-untyped-def]
    from kartoteka.clients import services

    return services.create_client(
        user, "company", {"company_name": "Ромашка", "legal_form": "ООО", "owner": user}
    )


@pytest.fixture
def person(user):  # type: ignore[no-untyped-def]
    from kartoteka.clients import services
    from kartoteka.clients.services import PhoneIn

    return services.create_client(
        user,
        "person",
        {"last_name": "Рябов", "first_name": "Иван", "owner": user},
        phones=[PhoneIn("+79161234567")],
    )


def test_bad_phone_is_an_error_on_that_field_and_nothing_is_saved(page, user, company):  # type: ignore[no-untyped-def]
    from kartoteka.clients.models import Client, Phone

    login(page)
    page.goto(f"/clients/new/person/?company={company.pk}")
    page.fill("#id_last_name", "Петров")
    page.fill("#id_first_name", "Пётр")
    page.fill("#id_phone-0-number", "12345")
    page.fill("#id_phone-1-number", "+7 903 111-22-33")
    assert submit(page) == 422
    expect(page).to_have_url(re.compile(rf"/clients/new/person/\?company={company.pk}$"))

    # The message sits under the bad number, and only there.
    bad_row = page.locator("#id_phone-0-number").locator("xpath=..")
    expect(bad_row.locator(".invalid-feedback")).to_contain_text("not a valid phone number")
    errors = page.locator(".invalid-feedback, .alert-danger")
    expect(errors).to_have_count(1)
    # What the user typed is still there.
    expect(page.locator("#id_last_name")).to_have_value("Петров")
    expect(page.locator("#id_phone-0-number")).to_have_value("12345")
    expect(page.locator("#id_phone-1-number")).to_have_value("+7 903 111-22-33")

    assert list(Client.all_objects.values_list("pk", flat=True)) == [company.pk]
    assert not Phone.objects.exists()
    assert page.errors.exceptions == page.errors.csp == []


def test_second_save_of_the_same_card_is_refused_and_keeps_input(new_page, user, person):  # type: ignore[no-untyped-def]
    """Olga and her head of sales, Pavel, open Olga's client at once; Olga saves first."""
    from kartoteka.accounts.models import Role, Team, User
    from kartoteka.clients.models import Client

    pavel = User.objects.create_user(
        "pavel", "pavel@example.com", PASSWORD, role=Role.objects.get(code="head")
    )
    Team.objects.create(name="Sales", head=pavel).members.add(user)
    first, second = new_page(), new_page()
    login(first)
    login(second, "pavel")
    edit_url = f"/clients/{person.pk}/edit/"
    first.goto(edit_url)
    second.goto(edit_url)

    first.fill("#id_first_name", "Иоанн")
    assert submit(first) == 302
    expect(first).to_have_url(re.compile(rf"/clients/{person.pk}/$"))
    expect(first.locator("#client-name")).to_have_text("Рябов Иоанн")

    second.fill("#id_first_name", "Ванечка")
    second.fill("#id_description", "called twice, prefers mornings")
    assert submit(second) == 409
    expect(second.locator(".alert-danger")).to_contain_text("Someone else saved this card")
    expect(second.locator("#id_first_name")).to_have_value("Ванечка")
    expect(second.locator("#id_description")).to_have_value("called twice, prefers mornings")

    person = Client.objects.get(pk=person.pk)
    assert (person.first_name, person.description) == ("Иоанн", "")


def test_markup_in_names_and_notes_is_shown_as_text(page, user, company):  # type: ignore[no-untyped-def]
    from kartoteka.clients import services

    hostile = services.create_client(
        user, "person", {"last_name": XSS, "first_name": "Иван", "owner": user}
    )
    services.link_person(user, hostile, company, "director", XSS)
    login(page)

    # The list, with the same text as the search query.
    page.goto("/clients/?q=" + XSS.replace("<", "%3C").replace(">", "%3E"))
    expect(page.locator("#id_q")).to_have_value(XSS)
    page.goto("/clients/")
    expect(page.locator("#rows").get_by_role("link", name=f"{XSS} Иван")).to_be_visible()

    # The card, and a call logged through htmx whose summary is markup too.
    page.goto(f"/clients/{hostile.pk}/")
    expect(page.locator("#client-name")).to_have_text(f"{XSS} Иван")
    call = page.locator("#form-call")
    call.locator("[name=call-summary]").fill(XSS)
    call.locator("[name=call-result]").fill(XSS)
    call.get_by_role("button", name="Save").click()
    expect(page.locator("#timeline .timeline-item .summary")).to_have_text(XSS)

    # The company's card shows the person and position as text.
    page.goto(f"/clients/{company.pk}/")
    expect(page.locator("#links")).to_contain_text(f"{XSS} Иван — director, {XSS}")
    expect(page.locator("#timeline")).to_contain_text(XSS)

    page.wait_for_timeout(200)  # an injected <img src=x> would have failed to load by now
    assert page.locator("img[src=x]").count() == 0
    assert page.errors.dialogs == []
    assert page.errors.csp == [], "markup reached the DOM and only the CSP stopped it"
    assert page.errors.all() == []


def test_card_has_unique_element_ids(page, user, person):  # type: ignore[no-untyped-def]
    login(page)
    page.goto(f"/clients/{person.pk}/")
    call = page.locator("#form-call").first
    call.locator("[name=call-summary]").fill("first")
    call.get_by_role("button", name="Save").click()
    expect(page.locator("#timeline .timeline-item")).to_have_count(1)
    ids = page.eval_on_selector_all("[id]", "els => els.map(e => e.id)")
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    assert not duplicates, f"duplicate ids: {duplicates}"
