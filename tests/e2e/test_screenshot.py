"""docs/img/client-card.png: a client card after a few interactions, for the user docs.

Written only with KARTOTEKA_SCREENSHOT=1 (`KARTOTEKA_SCREENSHOT=1 pytest tests/e2e -k screenshot
-p no:xdist`), so ordinary test runs never touch the docs.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("KARTOTEKA_SCREENSHOT") != "1",
        reason="set KARTOTEKA_SCREENSHOT=1 to write docs/img/client-card.png",
    ),
]

TARGET = Path(__file__).resolve().parents[2] / "docs" / "img" / "client-card.png"


def person_with_history(user):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from kartoteka.activities.services import log_interaction
    from kartoteka.clients import services
    from kartoteka.clients.services import EmailIn, PhoneIn

    company = services.create_client(
        user,
        "company",
        {"company_name": "Ромашка", "legal_form": "ООО", "inn": "7707083893", "owner": user},
        phones=[PhoneIn("+7 495 111-22-33", "work")],
    )
    person = services.create_client(
        user,
        "person",
        {
            "last_name": "Рябов",
            "first_name": "Иван",
            "middle_name": "Петрович",
            "stage": "customer",
            "source": "referral",
            "owner": user,
            "address": "Москва, ул. Лесная, 5",
            "description": "Prefers calls in the morning; decides on furniture purchases.",
        },
        phones=[PhoneIn("+7 916 123-45-67"), PhoneIn("+7 495 765-43-21", "work")],
        emails=[EmailIn("i.ryabov@romashka.example")],
        tags=["vip", "опт"],
    )
    services.link_person(user, person, company, "purchaser", "Head of purchasing")
    now = timezone.now()
    for days, fields in (
        (12, {"kind": "meeting", "channel": "in_person", "subject": "Showroom visit"}),
        (
            9,
            {
                "kind": "purchase",
                "subject": "Order 1042: 40 chairs",
                "amount": Decimal("184000.00"),
                "currency": "RUB",
            },
        ),
        (3, {"kind": "email", "channel": "email", "direction": "out", "subject": "Invoice sent"}),
    ):
        log_interaction(user, person, {**fields, "occurred_at": now - timedelta(days=days)})
    return person


def test_client_card_screenshot(new_page, user):  # type: ignore[no-untyped-def]
    from django.utils import translation

    with translation.override("en"):  # the history keeps role labels in the writer's language
        person = person_with_history(user)

    page = new_page(viewport={"width": 1280, "height": 900})
    login(page)
    page.goto(f"/clients/{person.pk}/")
    call = page.locator("#form-call")
    call.locator("[name=call-direction]").select_option("in")
    call.locator("[name=call-minutes]").fill("6")
    call.locator("[name=call-result]").fill("Wants 20 more chairs")
    call.locator("[name=call-summary]").fill("Asked for a quote; call back on Friday.")
    call.get_by_role("button", name="Save").click()
    expect(page.locator("#timeline .timeline-item")).to_have_count(4)
    page.locator("body").click(position={"x": 5, "y": 5})  # no focus ring in the picture
    page.evaluate("document.fonts.ready")

    TARGET.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(TARGET))
    assert TARGET.stat().st_size > 10_000
    assert page.errors.all() == []
