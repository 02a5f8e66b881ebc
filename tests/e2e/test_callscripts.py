"""Call scripts in a real browser: a head of sales builds a three-step branching script in the
editor; the operator walks it on the call card with htmx, reloads mid-way and finds the path
where it was, and finishing picks the suggested result — under the CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def _add_step(page, text: str, kind: str, **fields) -> None:  # type: ignore[no-untyped-def]
    form = page.locator("#step-form")
    form.locator("#id_text").fill(text)
    form.locator("#id_kind").select_option(kind)
    if "position" in fields:
        form.locator("#id_position").fill(str(fields["position"]))
    for name in ("next_step", "no_step", "disposition"):
        if name in fields:
            form.locator(f"#id_{name}").select_option(label=fields[name])
    for index, (label, target) in enumerate(fields.get("options", [])):
        form.locator(f"#id_o-{index}-label").fill(label)
        form.locator(f"#id_o-{index}-next_step").select_option(label=target)
    with page.expect_navigation():
        form.get_by_role("button", name="Add the step").click()


def test_build_a_script_then_walk_it_on_a_call(new_page, user):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from kartoteka.accounts.models import Role, Team, User
    from kartoteka.callcenter.models import Call, Disposition, Operator
    from kartoteka.clients import services
    from tests.e2e.conftest import PASSWORD

    Disposition.objects.get_or_create(name="Sale")
    user.role = Role.objects.get(code="operator")
    user.save(update_fields=["role"])
    helen = User.objects.create_user("helen", "helen@example.com", PASSWORD, first_name="Helen")
    helen.role = Role.objects.get(code="head")
    helen.save(update_fields=["role"])
    Team.objects.create(name="Sales", head=helen).members.add(user)
    operator = Operator.objects.create(user=user, extension="101", since=timezone.now())
    ivan = services.create_client(
        user, "person", {"last_name": "Иванов", "first_name": "Иван", "owner": user}
    )
    call = Call.objects.create(
        provider="webhook",
        call_id="e2e-1",
        status="answered",
        started_at=timezone.now(),
        operator=operator,
        user=user,
        client=ivan,
        queue="sales",
    )

    boss = new_page()
    login(boss, "helen")
    boss.goto("/call-scripts/")
    boss.fill("#id_name", "Welcome")
    with boss.expect_navigation():
        boss.get_by_role("button", name="Create").click()
    _add_step(boss, "Thank you, {first_name}!", "final", disposition="Sale")
    _add_step(boss, "Deliver tomorrow?", "yesno", next_step="Step 1", no_step="Step 1")
    _add_step(
        boss,
        "Hello {first_name}! Interested in our offer?",
        "choice",
        position=0,
        options=[("Yes, tell me", "Step 2"), ("Not now", "Step 1")],
    )
    steps = boss.locator("#steps > li")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("Yes, tell me → step 3")
    expect(steps.nth(0).get_by_role("link", name="→ step 2")).to_have_count(1)
    with boss.expect_navigation():
        steps.nth(0).get_by_role("link", name="edit").click()
    boss.locator("#id_o-1-label").fill("Not now, thanks")
    with boss.expect_navigation():
        boss.locator("#step-form").get_by_role("button", name="Save").click()
    expect(steps.nth(0)).to_contain_text("Not now, thanks → step 2")
    boss.locator("#id_is_active").check()
    with boss.expect_navigation():
        boss.locator("#script-form").get_by_role("button", name="Save").click()
    expect(boss.locator(".problem-error")).to_have_count(0)
    expect(boss.locator("#id_is_active")).to_be_checked()

    page = new_page()
    login(page)
    page.goto(f"/calls/{call.pk}/")
    box = page.locator("#call-script")
    expect(box).to_contain_text("Hello Иван! Interested in our offer?")
    box.get_by_role("button", name="Yes, tell me").click()
    expect(box).to_contain_text("Deliver tomorrow?")
    box.get_by_role("button", name="yes").click()
    expect(page.locator("#script-step")).to_contain_text("Thank you, Иван!")
    page.reload()
    expect(page.locator("#script-path li")).to_have_count(2)
    expect(page.locator("#script-path")).to_contain_text("Yes, tell me")
    expect(page.locator("#script-step")).to_contain_text("Thank you, Иван!")
    expect(page.locator("#script-suggested")).to_have_text("Sale")
    page.locator("#script-back").click()
    expect(page.locator("#script-step")).to_contain_text("Deliver tomorrow?")
    page.locator("#call-script").get_by_role("button", name="yes").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Finish the script").click()
    expect(page.locator("#script-finished")).to_be_visible()
    expect(page.locator("#id_disposition option:checked")).to_have_text("Sale")
    for p in (boss, page):
        assert p.errors.exceptions == p.errors.csp == p.errors.console == [], p.errors.all()
