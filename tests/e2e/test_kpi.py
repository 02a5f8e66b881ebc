"""KPIs in a real browser: the report page changes its grouping and draws its charts; the
wallboard shows a waiting call, is pushed a new one over its stream (no reload, no polling),
and ticks the longest wait in the page — under the CSP."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, login

pytestmark = pytest.mark.e2e


@pytest.fixture
def boss(e2e_db):  # type: ignore[no-untyped-def]
    from kartoteka.accounts.models import User

    return User.objects.create_superuser("boss", "boss@example.com", PASSWORD, first_name="Boss")


def _calls(boss):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from kartoteka.callcenter.models import Call, Operator

    operator = Operator.objects.create(
        user=boss, extension="101", status="available", since=timezone.now()
    )
    start = timezone.now() - dt.timedelta(hours=1)
    for n, wait in enumerate((5, 15, 40)):
        Call.objects.create(
            provider="e2e",
            call_id=f"k{n}",
            queue="sales",
            operator=operator,
            user=boss,
            status="ended",
            started_at=start,
            answered_at=start + dt.timedelta(seconds=wait),
            ended_at=start + dt.timedelta(seconds=wait + 60),
        )


def _wait(call_id: str, seconds: int) -> None:
    from django.utils import timezone

    from kartoteka.callcenter.models import Call

    Call.objects.create(
        provider="e2e",
        call_id=call_id,
        queue="support",
        status="queued",
        started_at=timezone.now() - dt.timedelta(seconds=seconds),
    )


def test_kpi_report_groups_and_charts(page, boss):  # type: ignore[no-untyped-def]
    _calls(boss)
    login(page, "boss")
    page.goto("/calls/kpi/")
    table = page.locator("#kpi-table")
    expect(table.locator("tbody th")).to_have_text(["sales"])
    expect(table.locator("tbody td").nth(3)).to_have_text("66.7 %")  # 2 of 3 within 20 s
    page.select_option("#id_group", "operator")
    page.get_by_role("button", name="Show").click()
    expect(table.locator("tbody th")).to_have_text(["101 Boss"])
    expect(table.locator("thead th").first).to_have_text("Operator")
    page.wait_for_function("() => window.Chart && Chart.getChart('kpi-chart-sl')")
    labels = page.evaluate("() => Chart.getChart('kpi-chart-sl').data.datasets.map(d => d.label)")
    assert labels == ["Service level", "Abandonment"]
    assert page.evaluate("() => Chart.getChart('kpi-chart-asa').data.datasets[0].data") == [20]
    assert page.errors.exceptions == page.errors.csp == page.errors.console == [], page.errors.all()


def test_wallboard_shows_a_waiting_call_live(page, boss):  # type: ignore[no-untyped-def]
    _wait("w1", 75)
    login(page, "boss")
    page.goto("/calls/wallboard/")
    queue = page.locator("[data-queue='support']")
    expect(queue.locator("[data-figure='waiting']")).to_have_text("1")
    longest = queue.locator("[data-figure='longest']")
    expect(longest).to_contain_text("1:1")
    expect(page.locator("#wallboard-state")).to_have_text("live", timeout=5000)
    first = longest.inner_text()
    expect(longest).not_to_have_text(first, timeout=3000)  # ticking in the page
    _wait("w2", 5)
    # Pushed within a couple of seconds; polling (the fallback) would take 5 s at best.
    expect(queue.locator("[data-figure='waiting']")).to_have_text("2", timeout=4000)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload
    assert page.evaluate("document.querySelector('[hx-trigger]')") is None
    assert page.errors.exceptions == page.errors.csp == page.errors.console == [], page.errors.all()
