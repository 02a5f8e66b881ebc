"""Every contact-centre page × every shipped role: the status each answers, and that the
centre's nav links exactly the pages that answer 200 (callcenter/access.py decides both)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client as Browser
from django.urls import reverse

from kartoteka.accounts.models import Role, Team, User
from kartoteka.accounts.roles import DEFAULTS

PAGES = {
    "callcenter:console": "Console",
    "callcenter:list": "Calls",
    "callcenter:board": "Board",
    "callcenter:callbacks": "Callbacks",
    "callscripts:list": "Scripts",
    "ivr:list": "Voice menus",
    "quality:list": "Quality",
    "callcenter:staffing": "Staffing",
    "callcenter:acd": "Call distribution",
    "callcenter:kpi": "KPIs",
    "callcenter:wallboard": "Wallboard",
    "callcenter:settings": "Settings",
}
EVERYONE = {"callcenter:console", "callcenter:list", "callcenter:callbacks", "quality:list"}
SUPERVISOR = EVERYONE | {
    "callcenter:board",
    "callcenter:staffing",
    "callcenter:kpi",
    "callcenter:wallboard",
}
HEAD = SUPERVISOR | {"callscripts:list", "ivr:list"}
# Which pages answer 200 for each shipped role; every other page answers 403.
EXPECTED = {
    "admin": set(PAGES),
    "head": HEAD,  # call view/edit TEAM: supervises, runs scripts and menus, not routing
    "manager": EVERYONE | {"callcenter:kpi"},  # own calls: own KPIs
    "operator": EVERYONE | {"callcenter:kpi"},
    "marketer": EVERYONE,  # no call rights: empty lists, no KPIs
    "analyst": SUPERVISOR,  # sees all calls, edits none
}
NAV = re.compile(r'<nav class="nav nav-pills[^>]*aria-label="Contact centre">(.*?)</nav>', re.S)


def test_every_shipped_role_is_in_the_matrix() -> None:
    assert set(EXPECTED) == set(DEFAULTS)


@pytest.fixture(params=list(DEFAULTS))
def browser(request: pytest.FixtureRequest, db: Any) -> tuple[str, Browser]:
    role = request.param
    me = User.objects.create_user(f"the-{role}", role=Role.objects.get(code=role))
    Team.objects.create(name="Sales").members.add(me)
    client = Browser()
    client.force_login(me)
    return role, client


def test_pages_and_nav(browser: tuple[str, Browser]) -> None:
    role, client = browser
    statuses = {name: client.get(reverse(name)).status_code for name in PAGES}
    assert statuses == {n: 200 if n in EXPECTED[role] else 403 for n in PAGES}, role
    page = client.get(reverse("callcenter:console")).content.decode()
    found = NAV.search(page)
    assert found, "the console shows the contact centre's nav"
    links = set(re.findall(r'href="([^"]+)"', found.group(1)))
    assert links == {reverse(name) for name in EXPECTED[role]}, role
