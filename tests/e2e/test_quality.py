"""Call quality in a real browser: a supervisor builds a two-criterion scorecard, draws a sample,
evaluates a call while its recording sits in the page, and finds the operator's score on the
chart page — under the CSP, without a console error."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, login

pytestmark = pytest.mark.e2e


def _cast():  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from kartoteka.accounts.models import Role, Team, User
    from kartoteka.callcenter.models import Call, Operator

    team = Team.objects.create(name="Sales")
    helen = User.objects.create_user("helen", "helen@example.com", PASSWORD, first_name="Helen")
    helen.role = Role.objects.get(code="head")
    helen.save()
    team.head = helen
    team.save()
    olga = User.objects.create_user("olga", "olga@example.com", PASSWORD, first_name="Olga")
    olga.role = Role.objects.get(code="operator")
    olga.save()
    team.members.add(olga)
    Operator.objects.create(user=olga, extension="101", status="available", since=timezone.now())
    start = timezone.now() - dt.timedelta(days=1)
    for n, url in enumerate(["https://pbx.example.com/rec/1.wav", ""]):
        Call.objects.create(
            provider="webhook",
            call_id=f"qa{n}",
            status="ended",
            caller="+79161234567",
            user=olga,
            started_at=start,
            answered_at=start + dt.timedelta(seconds=4),
            ended_at=start + dt.timedelta(seconds=90),
            recording_url=url,
            summary="Asked about delivery",
        )


def test_supervisor_scores_a_call_and_sees_the_chart(page):  # type: ignore[no-untyped-def]
    _cast()
    login(page, "helen")
    page.goto("/quality/scorecards/new/")
    page.fill("#id_name", "Sales calls")
    page.fill("#id_criteria-0-label", "Greeting")
    page.fill("#id_criteria-1-label", "Solved the issue")
    page.select_option("#id_criteria-1-kind", "scale")
    page.fill("#id_criteria-1-max_score", "4")
    page.fill("#id_criteria-1-weight", "0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-danger")).to_contain_text(
        "Row 2: the weight must be from 1 to 100."
    )
    page.fill("#id_criteria-1-weight", "3")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_contain_text("version 1")

    page.goto("/quality/sample/")
    page.select_option("#id_scorecard", label="Sales calls")
    page.fill("#id_per_operator", "2")
    page.fill("#id_seed", "11")
    page.get_by_role("button", name="Draw").click()
    expect(page.locator(".alert")).to_contain_text("Calls drawn: 1 (seed 11)")
    rows = page.locator(".evaluation-row")
    expect(rows).to_have_count(1)
    rows.first.locator("a").click()

    audio = page.locator("audio#recording")
    expect(audio).to_have_attribute("src", "https://pbx.example.com/rec/1.wav")
    expect(page.locator("#call-facts")).to_contain_text("Asked about delivery")
    selects = page.locator("#answers select")
    selects.nth(0).select_option("1")
    selects.nth(1).select_option("3")
    page.fill("#comment", "Good call")
    page.locator("#submit-evaluation").click()
    expect(page.locator("#total")).to_have_text("81.25%")
    expect(page.locator("#evaluation-form")).to_have_count(0)

    page.goto("/quality/scores/")
    expect(page.locator("canvas#scores-chart")).to_be_visible()
    expect(page.locator("#scores-table")).to_contain_text("Olga")
    expect(page.locator("#scores-table")).to_contain_text("81.25")
    page.wait_for_function("() => window.Chart && Chart.getChart('scores-chart')")
    page.locator("#scores-table a.drill").first.click()
    expect(page.locator(".evaluation-row")).to_have_count(1)
    assert page.errors.exceptions == page.errors.csp == [], page.errors.all()
    # The one console line is the browser reporting the refused form (422), on purpose.
    assert all("422" in line for line in page.errors.console), page.errors.console


def test_evaluate_from_the_call_card_and_the_operator_disputes(new_page):  # type: ignore[no-untyped-def]
    from kartoteka.accounts.models import User
    from kartoteka.callcenter.models import Call
    from kartoteka.quality import services
    from kartoteka.quality.services import CriterionIn

    _cast()
    helen = User.objects.get(username="helen")
    services.save_scorecard(
        helen,
        None,
        name="Short",
        is_active=True,
        criteria=[CriterionIn("Greeting", weight=1), CriterionIn("Script", weight=1)],
    )
    call = Call.objects.get(call_id="qa0")
    page = new_page()
    login(page, "helen")
    page.goto("/quality/scorecards/")
    expect(page.locator("#scorecards")).to_contain_text("Greeting (1); Script (1)")
    page.goto(f"/calls/{call.pk}/")
    page.locator("#evaluate-call button").click()
    expect(page.locator("audio#recording")).to_have_count(1)
    selects = page.locator("#answers select")
    selects.nth(0).select_option("1")
    selects.nth(1).select_option("0")
    page.locator("#submit-evaluation").click()
    expect(page.locator("#total")).to_have_text("50.00%")
    page.goto(f"/calls/{call.pk}/")
    expect(page.locator("#call-quality")).to_contain_text("Short: submitted · 50.00%")

    operator = new_page()
    login(operator, "olga")
    operator.goto("/quality/")
    operator.locator(".evaluation-row a").first.click()
    expect(operator.locator("#evaluation-form")).to_have_count(0)
    operator.select_option("#id_reply", "disputed")
    operator.fill("#id_comment", "The script step was skipped on purpose")
    operator.get_by_role("button", name="Send").click()
    expect(operator.locator("#reply")).to_contain_text("disputed: The script step was skipped")
    operator.goto("/quality/scores/")
    expect(operator.locator("#scores-table")).to_contain_text("Olga")
    for p in (page, operator):
        assert p.errors.exceptions == p.errors.csp == p.errors.console == [], p.errors.all()
