"""Voice menus in a real browser: a supervisor builds a two-level menu with a deal-number input,
sees a duplicate digit refused at its field, and walks the menu in "try it" — under the CSP."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, login

pytestmark = pytest.mark.e2e


def _add_child(page, parent: str, **fields: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"#tree li[data-title='{parent}'] .add-child").click()
    for name, value in fields.items():
        if name in ("kind", "validation", "queue", "answer"):
            page.select_option(f"#id_node-{name}", value)
        else:
            page.fill(f"#id_node-{name}", value)
    page.get_by_role("button", name="Save node").click()


def test_build_a_menu_and_walk_it(page, live_server):  # type: ignore[no-untyped-def]
    from kartoteka.accounts.models import User
    from kartoteka.callcenter.models import Queue
    from kartoteka.clients import services as clients
    from kartoteka.clients.services import PhoneIn
    from kartoteka.ivr.models import Node
    from kartoteka.sales import services as sales

    ada = User.objects.create_superuser("ada", "ada@example.com", PASSWORD)
    Queue.objects.create(name="sales")
    ivan = clients.create_client(
        ada,
        "person",
        {"last_name": "Иванов", "first_name": "Иван", "owner": ada},
        phones=[PhoneIn("+79161234567")],
    )
    deal = sales.create_deal(
        None,
        {
            "title": "Окна",
            "client": ivan,
            "amount": Decimal(15000),
            "expected_close": dt.date(2026, 12, 20),
        },
    )
    login(page, "ada")
    page.goto("/ivr/")
    page.fill("#id_menu-name", "Hotline")
    page.fill("#id_menu-number", "+7 495 000-00-00")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#tree")).to_contain_text("Main menu")

    _add_child(
        page,
        "Main menu",
        kind="menu",
        digit="1",
        title="Billing",
        prompt="Billing: 1 for your deal",
    )
    expect(page.locator("#tree li[data-title='Billing']")).to_be_visible()
    _add_child(page, "Main menu", kind="route", digit="2", title="Sales", queue="sales")
    _add_child(
        page,
        "Billing",
        kind="input",
        digit="1",
        title="Deal number",
        prompt="Enter your deal number",
        validation="deal",
        max_digits="10",
    )
    _add_child(page, "Deal number", kind="answer", title="Stage", answer="deal_stage")
    expect(page.locator("#tree li[data-title='Stage']")).to_have_attribute("data-depth", "3")

    # A second choice on digit 1 of the main menu is refused at the digit field.
    _add_child(page, "Main menu", kind="hangup", digit="1", title="Bye")
    expect(page.locator("[data-field='digit']")).to_contain_text("already uses 1")
    assert not Node.objects.filter(title="Bye").exists()

    page.goto(f"/ivr/{Node.objects.get(title='Billing').menu_id}/")
    page.fill("#id_caller", "8 916 123-45-67")
    page.get_by_role("button", name="Call").click()
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("waiting for 1–1 digits")
    page.locator("#try .keypad[data-key='1']").click()
    expect(transcript).to_contain_text("Billing: 1 for your deal")
    page.locator("#try .keypad[data-key='1']").click()
    expect(transcript).to_contain_text("Enter your deal number")
    page.fill("#id_digits", str(deal.pk))
    page.get_by_role("button", name="Send digits").click()
    expect(transcript).to_contain_text("20.12.2026")
    expect(page.locator("#try-values")).to_contain_text(str(deal.pk))
    page.locator("#try .keypad[data-key='*']").click()
    page.locator("#try .keypad[data-key='2']").click()
    expect(transcript).to_contain_text("routed to queue sales")
    assert page.errors.exceptions == page.errors.csp == [], page.errors.all()
    # The only answer that is not 2xx is the 422 of the duplicate digit.
    assert [e for e in page.errors.console if "422" not in e] == []
