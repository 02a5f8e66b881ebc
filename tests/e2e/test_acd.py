"""ACD in a real browser: a supervisor gives an operator a skill level in the grid and makes a
queue require it; the route API (signed like the PBX's webhook) then picks that operator over
one who has been idle longer — under the CSP."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
SECRET = "e2e-webhook-secret-0123456789"


def _route(url: str, call_id: str) -> dict:  # type: ignore[type-arg]
    from kartoteka.callcenter.providers.webhook.provider import (
        SIGNATURE_HEADER,
        TIMESTAMP_HEADER,
        sign,
    )

    raw = json.dumps({"call_id": call_id, "caller": "+79990001122", "queue": "sales"}).encode()
    stamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the live test server
        url + "/api/v1/calls/route",
        data=raw,
        method="POST",
        headers={
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(SECRET, stamp, raw),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
        return json.loads(response.read())


def test_supervisor_skills_then_routing(page, user, live_server, settings):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from kartoteka.accounts.models import User
    from kartoteka.callcenter import reservations
    from kartoteka.callcenter.acd_models import OperatorSkill, QueueSkill, Skill
    from kartoteka.callcenter.models import Operator, Queue

    settings.TELEPHONY_CONFIG = {**settings.TELEPHONY_CONFIG, "secret": SECRET}
    user.is_superuser = True
    user.save()
    now = timezone.now()
    anna = User.objects.create_user("anna", "anna@example.com", "x", first_name="Anna")
    boris = User.objects.create_user("boris", "boris@example.com", "x", first_name="Boris")
    skilled = Operator.objects.create(user=anna, extension="201", status="available", since=now)
    Operator.objects.create(
        user=boris, extension="202", status="available", since=now - dt.timedelta(minutes=5)
    )
    english = Skill.objects.create(name="English")
    queue = Queue.objects.create(name="sales")
    assert _route(live_server.url, "e2e-1")["extension"] == "202"  # longest idle, no skills yet
    # The PBX never rings him: his reservation for that call runs out.
    assert reservations.expire(timezone.now() + dt.timedelta(minutes=1)) == 1
    # Anna has only just come free, so without skills longest idle would still pick Boris.
    Operator.objects.filter(pk=skilled.pk).update(since=timezone.now() + dt.timedelta(minutes=2))

    login(page)
    page.goto("/calls/")
    page.get_by_role("link", name="Call distribution").click()
    cell = page.locator(f"#cell-{skilled.pk}-{english.pk}")
    cell.get_by_role("textbox").fill("11")
    cell.get_by_role("textbox").press("Tab")
    expect(page.locator(f"#cell-{skilled.pk}-{english.pk} [role=alert]")).to_contain_text(
        "from 1 to 10"
    )
    page.locator(f"#cell-{skilled.pk}-{english.pk} input[name=level]").fill("7")
    page.locator(f"#cell-{skilled.pk}-{english.pk} input[name=level]").press("Tab")
    expect(page.locator(f"#cell-{skilled.pk}-{english.pk} input.is-valid")).to_have_value("7")
    assert OperatorSkill.objects.get().level == 7

    page.locator("#acd-queues").get_by_role("link", name="sales").click()
    page.fill(f"#id_need_{english.pk}", "5")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#acd-queues")).to_contain_text("English ≥ 5")
    assert QueueSkill.objects.get(queue=queue).min_level == 5

    decision = _route(live_server.url, "e2e-2")
    assert decision["extension"] == "201" and decision["operator_id"] == skilled.pk
    # The one refused cell (422) is the only resource error the page logged.
    refused = [e for e in page.errors.console if "422" in e and "/calls/acd/cell/" in e]
    assert len(refused) == 1 and page.errors.console == refused, page.errors.all()
    assert page.errors.exceptions == page.errors.csp == [], page.errors.all()
