"""The contact centre in a real browser: a signed webhook "ringing" event pops the caller's card
on the operator's open console, live; after the call the operator fills the result and summary
and the call is on the client's timeline — under the CSP."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
SECRET = "e2e-webhook-secret-0123456789"


def _send(url: str, body: dict) -> int:  # type: ignore[type-arg]
    from kartoteka.callcenter.providers.webhook.provider import (
        SIGNATURE_HEADER,
        TIMESTAMP_HEADER,
        sign,
    )

    raw = json.dumps(body).encode()
    stamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the live test server
        url + "/telephony/webhook/",
        data=raw,
        method="POST",
        headers={
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(SECRET, stamp, raw),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
        return int(response.status)


def _event(kind: str, n: int) -> dict:  # type: ignore[type-arg]
    from django.utils import timezone

    return {
        "id": f"e2e-{n}",
        "type": f"call.{kind}",
        "call_id": "e2e-call",
        "at": timezone.now().isoformat(),
        "from": "8 (916) 123-45-67",
        "to": "+74950000000",
        "queue": "sales",
        "extension": "101",
        "ivr": {"menu": "sales"},
    }


def test_screen_pop_to_timeline(page, user, live_server, settings):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from kartoteka.activities.models import Interaction
    from kartoteka.callcenter.models import Disposition, Operator
    from kartoteka.clients import services
    from kartoteka.clients.services import PhoneIn

    settings.TELEPHONY_CONFIG = {**settings.TELEPHONY_CONFIG, "secret": SECRET}
    Operator.objects.create(user=user, extension="101", status="available", since=timezone.now())
    Disposition.objects.get_or_create(name="Заказ оформлен")
    ivan = services.create_client(
        user,
        "person",
        {"last_name": "Иванов", "first_name": "Иван", "owner": user},
        phones=[PhoneIn("+79161234567")],
    )
    login(page)
    page.goto("/calls/console/")
    expect(page.locator("#no-call")).to_be_visible()
    page.wait_for_timeout(1500)  # the page's event stream is open
    assert _send(live_server.url, _event("ringing", 1)) == 200
    pop = page.locator("#call-pop")
    expect(pop).to_contain_text("Иванов Иван", timeout=5000)
    expect(pop).to_contain_text("menu: sales")
    expect(page.locator("#status-label")).to_have_text("ringing")
    assert _send(live_server.url, _event("answered", 2)) == 200
    expect(page.locator("#status-label")).to_have_text("on a call", timeout=5000)
    assert _send(live_server.url, _event("ended", 3)) == 200
    expect(page.locator("#status-label")).to_have_text("after-call work", timeout=5000)
    page.locator("#pop-open").click()
    page.select_option("#id_disposition", label="Заказ оформлен")
    page.fill("#id_summary", "Оформил заказ, доставка в пятницу")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#on-timeline")).to_be_visible()
    interaction = Interaction.objects.get(client=ivan)
    assert interaction.result == "Заказ оформлен" and interaction.kind == "call"
    page.goto(f"/clients/{ivan.pk}/")
    expect(page.locator("#timeline")).to_contain_text("Оформил заказ, доставка в пятницу")
    assert page.errors.exceptions == page.errors.csp == page.errors.console == [], page.errors.all()


def test_unknown_caller_offers_a_new_client(page, user, live_server, settings):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from kartoteka.callcenter.models import Operator

    settings.TELEPHONY_CONFIG = {**settings.TELEPHONY_CONFIG, "secret": SECRET}
    Operator.objects.create(user=user, extension="101", status="available", since=timezone.now())
    login(page)
    page.goto("/calls/console/")
    page.wait_for_timeout(1500)
    assert _send(live_server.url, _event("ringing", 1)) == 200
    page.locator("#pop-create").click(timeout=5000)
    expect(page.locator("input[value='+79161234567']")).to_have_count(1)


def test_the_board_follows_a_status_change_live(page, user, live_server):  # type: ignore[no-untyped-def]
    """A supervisor's open board shows an operator's break without a reload, and the time in
    the status keeps counting in the page."""
    from django.utils import timezone

    from kartoteka.accounts.models import Role, Team
    from kartoteka.callcenter import services
    from kartoteka.callcenter.models import BreakReason, Operator
    from tests.conftest import make_user

    lunch, _new = BreakReason.objects.get_or_create(name="Обед")
    team = Team.objects.create(name="Продажи")
    user.role = Role.objects.get(code="head")
    user.save(update_fields=["role"])
    team.members.add(user)
    otto = make_user("otto", role="operator", first_name="Otto")
    team.members.add(otto)
    operator = Operator.objects.create(
        user=otto, extension="201", status="available", since=timezone.now()
    )
    login(page)
    page.goto("/calls/board/")
    row = page.locator("#board-operators tr[data-extension='201']")
    expect(row).to_contain_text("available")
    expect(page.locator("#board-state")).to_have_text("live", timeout=5000)
    timer = row.locator(".board-timer")
    first = timer.inner_text()
    expect(timer).not_to_have_text(first, timeout=3000)  # ticking in the page
    services.set_status(otto, operator, "break", break_reason=lunch)
    expect(row).to_contain_text("break", timeout=5000)
    expect(row).to_contain_text("Обед")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload
    assert page.errors.exceptions == page.errors.csp == page.errors.console == [], page.errors.all()
