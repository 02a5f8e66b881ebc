"""A billing menu: 1 → billing (1 → deal number → its stage; 2 → open deals), 2 → sales queue.
ivan (a client of alice, +79161234567) has deal `deal` for 15,000 RUB expected 2026-12-20."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from kartoteka.callcenter.models import Queue
from kartoteka.ivr import runtime, services
from kartoteka.ivr.models import Menu, Node, Session
from kartoteka.sales import services as sales
from tests.callcenter.conftest import ivan as ivan
from tests.callcenter.conftest import webhook_secret as webhook_secret

DID = "+74950000000"


@pytest.fixture
def queue(db) -> Queue:
    return Queue.objects.create(name="sales")


@pytest.fixture
def deal(ivan):
    return sales.create_deal(
        None,
        {
            "title": "Windows",
            "client": ivan,
            "amount": Decimal("15000"),
            "expected_close": dt.date(2026, 12, 20),
        },
    )


def add(actor: Any, menu: Menu, parent: Node, **fields: Any) -> Node:
    menu.refresh_from_db()
    return services.save_node(actor, menu, None, {"parent": parent, **fields}, menu.version)


@pytest.fixture
def menu(admin, queue) -> Menu:
    menu = services.save_menu(admin, None, {"name": "Hotline", "number": "8 495 000-00-00"})
    root = Node.objects.get(menu=menu, parent=None)
    root.prompt = "Press 1 for billing, 2 for sales"
    root.save()
    billing = add(admin, menu, root, kind="menu", digit="1", title="Billing", prompt="Billing")
    add(admin, menu, root, kind="route", digit="2", title="Sales", queue=queue)
    number = add(
        admin,
        menu,
        billing,
        kind="input",
        digit="1",
        title="Deal number",
        prompt="Enter the deal number",
        validation="deal",
        min_digits=1,
        max_digits=10,
    )
    add(admin, menu, number, kind="answer", title="Stage", answer="deal_stage")
    add(admin, menu, billing, kind="answer", digit="2", title="Open deals", answer="open_deals")
    menu.refresh_from_db()
    return menu


def press(token: str, digits: str | None):
    """runtime.feed_session at the session's current step, as a genuine PBX sends it."""
    steps = Session.objects.get(token=token).steps
    return runtime.feed_session(token, digits, steps)
