"""The deals board in a real browser: drag a card to the next stage, and into a stage that asks
for fields first; counts and sums follow, and nothing breaks the CSP."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


@pytest.fixture
def deals(user):  # type: ignore[no-untyped-def]
    from kartoteka.clients import services as client_services
    from kartoteka.sales import services

    company = client_services.create_client(
        user, "company", {"company_name": "Ромашка", "legal_form": "ООО", "owner": user}
    )
    ready = services.create_deal(
        user,
        {
            "title": "Сорок стульев",
            "client": company,
            "amount": Decimal("1200"),
            "expected_close": dt.date(2027, 3, 1),
        },
    )
    bare = services.create_deal(user, {"title": "Без суммы", "client": company})
    return ready, bare


def drag(page, card, column) -> None:  # type: ignore[no-untyped-def]
    """Press on the card, move to the column in steps, release: what SortableJS listens to."""
    start = card.bounding_box()
    end = column.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 10)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 5, start["y"] + 15, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] - 20, steps=15)
    page.mouse.up()


def test_drag_cards_between_stages(page, user, deals):  # type: ignore[no-untyped-def]
    from kartoteka.sales.models import Deal, Pipeline

    ready, bare = deals
    stages = list(Pipeline.objects.get().stages.all())
    login(page)
    page.get_by_role("navigation").get_by_role("link", name="Deals").click()
    first, second = (page.locator(f"#column-{s.pk}") for s in stages[:2])
    expect(first.locator(".column-count")).to_have_text("2")
    expect(second.locator(".column-count")).to_have_text("0")
    expect(first.locator(".column-sums")).to_contain_text("1,200.00 RUB")

    # A deal with an amount goes straight to "Needs identified" (which requires one).
    drag(page, page.locator(f"#deal-{ready.pk}"), second.locator(".kanban-cards"))
    expect(second.locator(".column-count")).to_have_text("1")
    expect(first.locator(".column-count")).to_have_text("1")
    expect(second.locator(f"#deal-{ready.pk}")).to_be_visible()
    expect(second.locator(".column-sums")).to_contain_text("1,200.00 RUB")
    expect(page.locator("#kanban-message")).to_contain_text("is now in")
    assert Deal.objects.get(pk=ready.pk).stage == stages[1]

    # A deal without one: the board asks for the amount first, and the card stays meanwhile.
    drag(page, page.locator(f"#deal-{bare.pk}"), second.locator(".kanban-cards"))
    dialog = page.locator("#kanban-modal")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[name=amount]")).to_be_visible()
    expect(dialog.locator("[name=expected_close]")).to_have_count(0)
    expect(first.locator(f"#deal-{bare.pk}")).to_be_visible()
    assert Deal.objects.get(pk=bare.pk).stage == stages[0]
    dialog.locator("[name=amount]").fill("-3")
    dialog.get_by_role("button", name="Move").click()
    expect(dialog.locator(".invalid-feedback")).to_be_visible()
    dialog.locator("[name=amount]").fill("500")
    dialog.get_by_role("button", name="Move").click()
    expect(dialog).to_be_hidden()
    expect(second.locator(f"#deal-{bare.pk}")).to_be_visible()
    expect(second.locator(".column-count")).to_have_text("2")
    expect(first.locator(".column-count")).to_have_text("0")
    expect(second.locator(".column-sums")).to_contain_text("1,700.00 RUB")
    moved = Deal.objects.get(pk=bare.pk)
    assert (moved.stage, moved.amount) == (stages[1], Decimal("500"))

    # The moved card can move again: the redrawn columns are sortable too.
    expect(page.locator(".modal-backdrop")).to_have_count(0)  # the modal has faded out
    drag(page, second.locator(f"#deal-{ready.pk}"), first.locator(".kanban-cards"))
    expect(first.locator(".column-count")).to_have_text("1")
    assert Deal.objects.get(pk=ready.pk).stage == stages[0]

    # The only answer that is not 2xx is the 422 of the bad amount.
    assert page.errors.exceptions == page.errors.csp == [], page.errors.csp
    assert [e for e in page.errors.console if "422" not in e] == []
    assert all(" 422 " in f" {e} " for e in page.errors.http), page.errors.http


def test_refused_and_stale_moves_put_the_card_back(new_page, user, deals):  # type: ignore[no-untyped-def]
    """A marketer may look but not move; Olga's second tab is behind a move made elsewhere."""
    from kartoteka.accounts.models import Role, User
    from kartoteka.sales import services
    from kartoteka.sales.models import Deal, Pipeline
    from tests.e2e.conftest import PASSWORD

    ready, _bare = deals
    stages = list(Pipeline.objects.get().stages.all())
    User.objects.create_user(
        "mark", "mark@example.com", PASSWORD, role=Role.objects.get(code="marketer")
    )
    page = new_page()
    login(page, "mark")
    page.goto("/deals/")
    first, second = (page.locator(f"#column-{s.pk}") for s in stages[:2])
    drag(page, page.locator(f"#deal-{ready.pk}"), second.locator(".kanban-cards"))
    expect(page.locator("#kanban-message")).to_contain_text("You may not change this deal")
    expect(first.locator(f"#deal-{ready.pk}")).to_be_visible()
    expect(second.locator(".column-count")).to_have_text("0")
    assert Deal.objects.get(pk=ready.pk).stage == stages[0]
    assert page.errors.exceptions == page.errors.csp == []

    page = new_page()
    login(page)
    page.goto("/deals/")
    first, second = (page.locator(f"#column-{s.pk}") for s in stages[:2])
    services.move_deal(user, ready, stages[3], ready.version)  # from another tab
    drag(page, page.locator(f"#deal-{ready.pk}"), second.locator(".kanban-cards"))
    expect(page.locator("#kanban-message")).to_contain_text(
        "Someone else moved this deal; the board is refreshed."
    )
    expect(page.locator(f"#column-{stages[3].pk} #deal-{ready.pk}")).to_be_visible()
    expect(second.locator(".column-count")).to_have_text("0")
    expect(first.locator(".column-count")).to_have_text("1")
    assert Deal.objects.get(pk=ready.pk).stage == stages[3]
    assert page.errors.exceptions == page.errors.csp == []
