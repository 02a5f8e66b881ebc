"""The planner in a real browser: a task from the client card to done (logged on the
timeline), the calendar with drag-to-reschedule, and the live unread count — under the CSP."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


@pytest.fixture
def acme(user):  # type: ignore[no-untyped-def]
    from kartoteka.clients import services

    return services.create_client(
        user, "company", {"company_name": "Ромашка", "legal_form": "ООО", "owner": user}
    )


def _clean(page) -> None:  # type: ignore[no-untyped-def]
    assert page.errors.exceptions == page.errors.csp == page.errors.console == [], page.errors.all()


def test_task_from_the_client_card_to_done(page, user, acme):  # type: ignore[no-untyped-def]
    from kartoteka.activities.models import Interaction
    from kartoteka.planner.models import Task

    login(page)
    page.goto(f"/clients/{acme.pk}/")
    section = page.locator("#client-tasks")
    expect(section).to_contain_text("No open tasks.")
    section.get_by_role("link", name="New task").click()
    page.fill("#id_title", "Перезвонить о счёте")
    page.fill("#id_due_at", (dt.datetime.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT10:00"))
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#task-title")).to_have_text("Перезвонить о счёте")
    task = Task.objects.get()
    page.get_by_role("navigation").get_by_role("link", name="Tasks").click()
    expect(page.locator(f"tr[data-task='{task.pk}']")).to_be_visible()
    page.goto(f"/clients/{acme.pk}/")
    expect(page.locator("#client-tasks")).to_contain_text("Перезвонить о счёте")
    page.locator("#client-tasks").get_by_role("link", name="Перезвонить о счёте").click()
    page.fill("#id_done-result", "Оплатят в пятницу")
    page.get_by_role("button", name="Done").click()
    expect(page.locator("#task-status")).to_have_text("done")
    assert Interaction.objects.get(client=acme).summary == "Оплатят в пятницу"
    page.goto(f"/clients/{acme.pk}/")
    expect(page.locator("#timeline")).to_contain_text("Оплатят в пятницу")
    _clean(page)


def test_calendar_drag_reschedules(page, user):  # type: ignore[no-untyped-def]
    from kartoteka.planner import services
    from kartoteka.planner.models import Task

    today = dt.datetime.now(dt.UTC).date()
    monday = today - dt.timedelta(days=today.weekday())
    due = dt.datetime.combine(monday, dt.time(10, 0), tzinfo=dt.UTC)
    task = services.create_task(
        user,
        {"title": "Встреча с клиентом", "kind": "meeting", "due_at": due, "duration_minutes": 60},
    )
    login(page)
    page.goto("/tasks/calendar/")
    event = page.locator(".fc-event", has_text="Встреча с клиентом")
    expect(event).to_be_visible()
    event.scroll_into_view_if_needed()
    target = page.locator(
        f"td.fc-timegrid-col[data-date='{monday + dt.timedelta(days=2):%Y-%m-%d}']"
    )
    box, column = event.bounding_box(), target.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + 8
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 10, y + 2, steps=4)
    page.mouse.move(column["x"] + column["width"] / 2, y, steps=15)
    # Wait for the server's answer to the move instead of polling the database from this
    # thread: the live server shares an in-memory SQLite database (shared cache), where a read
    # here while the server writes fails at once with "database table is locked".
    with page.expect_response(lambda r: "/tasks/calendar/move/" in r.url) as moved:
        page.mouse.up()
    assert moved.value.status == 200, moved.value.text()
    expect(page.locator("#calendar-message")).to_be_hidden()
    page.wait_for_function("() => !document.querySelector('.fc-event-dragging')")
    task.refresh_from_db()
    assert task.version == 2, page.errors.all() + page.errors.http
    assert task.due_at == due + dt.timedelta(days=2)
    # Month and day views render too.
    page.get_by_role("button", name="month", exact=True).click()
    expect(page.locator(".fc-daygrid-event", has_text="Встреча")).to_be_visible()
    page.get_by_role("button", name="day", exact=True).click()
    expect(page.locator(".fc-timeGridDay-view")).to_be_visible()
    _clean(page)
    assert Task.objects.count() == 1


def test_unread_count_updates_live(page, user):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from kartoteka.planner import reminders, services

    login(page)
    page.goto("/tasks/")
    badge = page.locator("#unread-count")
    expect(badge).to_be_hidden()
    page.wait_for_timeout(1500)  # the page's stream is open
    services.create_task(
        user,
        {
            "title": "Позвонить",
            "due_at": timezone.now() + dt.timedelta(minutes=10),
            "remind_minutes": 15,
        },
    )
    assert reminders.deliver_due() == 1
    expect(badge).to_have_text("1", timeout=5000)
    expect(badge).to_be_visible()
    _clean(page)
