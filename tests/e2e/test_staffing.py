"""Staffing and operator settings in a real browser: a head pastes a forecast and gets the table
and the chart; an administrator changes an operator's extension and removes the operator."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def _role(user, code: str) -> None:  # type: ignore[no-untyped-def]
    from kartoteka.accounts.models import Role

    user.role = Role.objects.get(code=code)
    user.save()


def test_a_head_plans_a_forecast(page, user):  # type: ignore[no-untyped-def]
    _role(user, "head")
    login(page)
    page.goto("/calls/staffing/")
    page.fill("#id_forecast", "20\n45\n60\n30")
    page.fill("#id_aht_s", "180")
    page.select_option("#id_interval_minutes", "60")
    page.fill("#id_day_start", "9")
    page.click("#staffing-form button[type=submit]")
    rows = page.locator("#staffing-table tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0).locator("td").first).to_have_text("09:00")
    expect(page.locator("#staffing-chart")).to_be_visible()
    # Chart.js drew on the canvas: it sized it and registered the chart.
    page.wait_for_function("() => window.Chart && !!window.Chart.getChart('staffing-chart')")
    page.fill("#id_forecast", "20\nlots")
    page.click("#staffing-form button[type=submit]")
    expect(page.locator('[data-field="forecast"]')).to_contain_text("Row 2")
    assert page.errors.exceptions == page.errors.csp == [], page.errors.all()


def test_an_administrator_edits_and_removes_an_operator(page, user):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from kartoteka.callcenter.models import Operator

    _role(user, "admin")
    operator = Operator.objects.create(user=user, extension="101", since=timezone.now())
    login(page)
    page.goto("/calls/settings/")
    page.locator("#operators a", has_text="change").click()
    page.fill("#id_extension", "205")
    page.fill("#id_acw_seconds", "45")
    page.click("#operator-form button[type=submit]")
    expect(page.locator("#operators")).to_contain_text("205")
    operator.refresh_from_db()
    assert operator.extension == "205" and operator.acw_seconds == 45
    page.locator("#operators button", has_text="remove").click()
    expect(page.locator(".alert")).to_contain_text("no calls to keep")
    assert not Operator.all_objects.filter(pk=operator.pk).exists()
    assert page.errors.exceptions == page.errors.csp == [], page.errors.all()
