"""Browser tests: Playwright (sync API) drives Debian's Chromium against live_server.

One headless Chromium per test process (a session-scoped holder, so one per xdist worker), a
fresh browser context (cookies, storage) per test. Every page records console errors, uncaught
exceptions, failed requests, dialogs and CSP violations in `page.errors`.

Playwright's sync API keeps an asyncio event loop running in the test thread. Two consequences
are handled here and kept away from the rest of the suite:

- Django refuses ORM calls from a thread with a running loop (SynchronousOnlyOperation), so
  DJANGO_ALLOW_ASYNC_UNSAFE is set, but only while a browser test runs: left in os.environ it
  would reach other tests' subprocesses (`check --deploy` fails with async.E001).
- Chromium and Playwright's loop are stopped once the last browser test of a run has finished,
  so tests after them see a thread without a running event loop.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "correct-horse-battery"
TIMEOUT_MS = 10_000

CSP_RE = re.compile(r"Content Security Policy|Content-Security-Policy", re.IGNORECASE)


def _is_e2e(item: pytest.Item | None) -> bool:
    return item is not None and E2E_DIR in Path(str(item.path)).resolve().parents


class Chromium:
    """Starts Playwright and Chromium on first use; `stop()` ends both."""

    def __init__(self) -> None:
        self.playwright = None
        self.browser = None

    def get(self):  # type: ignore[no-untyped-def]
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            playwright = sync_playwright().start()
            try:
                self.browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
            except Exception:
                playwright.stop()
                raise
            self.playwright = playwright
        return self.browser

    def stop(self) -> None:
        browser, playwright = self.browser, self.playwright
        self.browser = self.playwright = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


_CHROMIUM = Chromium()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):  # type: ignore[no-untyped-def]
    if not _is_e2e(item):
        return (yield)
    before = os.environ.get(ASYNC_UNSAFE)
    # Playwright's sync API runs an event loop in this thread; without this Django refuses the
    # ORM calls the tests make themselves (creating users, checking rows).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        return (yield)
    finally:
        if not _is_e2e(nextitem):
            _CHROMIUM.stop()
        if before is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = before


@pytest.fixture(scope="session")
def chromium(seeded_rows) -> Iterator[Chromium]:  # type: ignore[no-untyped-def]
    """The session's browser; needs `seeded_rows` read before Playwright's loop starts."""
    if not CHROMIUM.exists() or not os.access(CHROMIUM, os.X_OK):
        message = (
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(apt-get install chromium); browser tests never download a browser"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield _CHROMIUM
    _CHROMIUM.stop()


@pytest.fixture
def browser(chromium):  # type: ignore[no-untyped-def]
    return chromium.get()


@dataclass
class PageErrors:
    """What went wrong inside the page: console errors, uncaught exceptions, CSP reports."""

    console: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    http: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.console, *self.exceptions, *self.csp]


def _watch(page, errors: PageErrors) -> None:  # type: ignore[no-untyped-def]
    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        text = message.text
        if CSP_RE.search(text):
            errors.csp.append(text)
        elif message.type == "error":
            where = (message.location or {}).get("url", "")
            errors.console.append(f"{text} [{where}]" if where else text)

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        errors.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.exceptions.append(str(exc)))
    page.on("dialog", on_dialog)

    def on_response(response) -> None:  # type: ignore[no-untyped-def]
        if response.status >= 400:
            errors.http.append(f"{response.status} {response.request.method} {response.url}")

    page.on("response", on_response)
    # CSP violations also reach the page as events, even when the console line is missed.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation (Content-Security-Policy): ' + e.violatedDirective + ' ' + e.blockedURI));"
    )


@pytest.fixture(scope="session")
def seeded_rows(django_db_setup) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The rows migrations seed (shipped roles and their matrix), as serialized at DB creation.

    Read before Playwright starts: once its event loop runs in this thread, Django's
    `connections` hands out other connection objects, which lack `_test_serialized_contents`,
    so pytest-django's serialized rollback silently restores nothing.
    """
    from django.db import connections

    return {
        alias: contents
        for alias in connections
        if (contents := getattr(connections[alias], "_test_serialized_contents", None))
    }


# Rebuilt by post_migrate after every flush, under new primary keys: never restored.
REBUILT_AFTER_FLUSH = {"contenttypes.contenttype", "auth.permission"}


@pytest.fixture(autouse=True)
def e2e_db(seeded_rows, django_db_serialized_rollback, transactional_db):  # type: ignore[no-untyped-def]
    """A real, committed database that the live server thread reads, with the seeded rows.

    `transactional_db` empties every table after each test, the seeded roles included; put them
    back (saved by primary key, so rows that are still there are simply updated).
    """
    from django.core import serializers
    from django.db import connections, transaction

    for alias, contents in seeded_rows.items():
        connection = connections[alias]
        with transaction.atomic(using=alias), connection.constraint_checks_disabled():
            for obj in serializers.deserialize("json", contents, using=alias):
                if obj.object._meta.label_lower not in REBUILT_AFTER_FLUSH:
                    obj.save()


@pytest.fixture
def new_page(browser, live_server):  # type: ignore[no-untyped-def]
    """A factory of pages, each in its own browser context (its own cookies); all closed after."""
    contexts = []

    def make(locale: str = "en-US", viewport: dict | None = None):  # type: ignore[no-untyped-def]
        context = browser.new_context(
            base_url=live_server.url,
            locale=locale,
            viewport=viewport or {"width": 1280, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.errors = PageErrors()  # type: ignore[attr-defined]
        _watch(page, page.errors)  # type: ignore[attr-defined]
        return page

    yield make
    for context in contexts:
        context.close()
    _settle_live_server()


def _settle_live_server(quiet_s: float = 0.3, limit_s: float = 5.0) -> None:
    """Wait (at most `limit_s`) until the live server has had no request in flight for `quiet_s`.

    A request the closed browser left running (an htmx section loading after the page, an event
    stream between two polls) would otherwise meet the teardown's flush: on PostgreSQL its
    SELECT and the TRUNCATE of every table lock in opposite orders and deadlock; on SQLite it
    shares the test's in-memory connection and both hang.
    """
    deadline = time.monotonic() + limit_s
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        if any(t.is_alive() and "process_request_thread" in t.name for t in threading.enumerate()):
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            return
        time.sleep(0.05)


@pytest.fixture
def page(new_page):  # type: ignore[no-untyped-def]
    return new_page()


@pytest.fixture
def user(e2e_db):  # type: ignore[no-untyped-def]
    from kartoteka.accounts.models import User

    return User.objects.create_user(
        "olga", "olga@example.com", PASSWORD, first_name="Olga", last_name="Smirnova"
    )


def login(page, username: str = "olga", password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the login form and land on the client list."""
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/login/" not in page.url, "login failed"
