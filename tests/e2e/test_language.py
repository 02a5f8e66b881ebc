"""The interface follows the browser's language (Accept-Language) when the user chose none."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD

RU_CATALOG = Path(__file__).resolve().parents[2] / "kartoteka/locale/ru/LC_MESSAGES/django.mo"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not RU_CATALOG.exists(), reason="no compiled Russian catalog"),
]


def test_login_page_in_russian_for_a_russian_browser(new_page, user):  # type: ignore[no-untyped-def]
    page = new_page(locale="ru-RU")
    response = page.goto("/login/")
    assert response is not None and response.headers.get("content-language") == "ru"
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("h1")).to_have_text("Картотека")
    expect(page.get_by_label("Имя пользователя")).to_be_visible()
    expect(page.get_by_label("Пароль")).to_be_visible()

    page.get_by_label("Имя пользователя").fill("olga")
    page.get_by_label("Пароль").fill("wrong")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_have_text("Неверное имя пользователя или пароль.")

    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="Новая компания")).to_be_visible()
    expect(nav.get_by_role("button", name="Выйти")).to_be_visible()
    assert page.errors.exceptions == page.errors.csp == []


def test_login_page_in_english_for_an_english_browser(new_page):  # type: ignore[no-untyped-def]
    page = new_page(locale="en-US")
    page.goto("/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_label("User name")).to_be_visible()
