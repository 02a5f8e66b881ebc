"""Planner fixtures: a client and a deal of alice's, and a task factory."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kartoteka.clients import services as client_services
from kartoteka.planner import services
from kartoteka.planner.services import Targets
from kartoteka.sales import services as sales_services


@pytest.fixture
def acme(alice):
    return client_services.create_client(
        alice, "company", {"company_name": "Acme", "legal_form": "ООО", "owner": alice}
    )


@pytest.fixture
def deal(alice, acme):
    return sales_services.create_deal(alice, {"title": "Forty chairs", "client": acme})


def soon(hours: float = 2) -> dt.datetime:
    return (timezone.now() + dt.timedelta(hours=hours)).replace(microsecond=0)


@pytest.fixture
def make_task(alice):
    def make(actor=None, clients=(), deals=(), participants=(), **fields):
        fields.setdefault("title", "Call back")
        fields.setdefault("kind", "call")
        fields.setdefault("due_at", soon())
        return services.create_task(
            actor or alice,
            fields,
            targets=Targets(list(clients), list(deals)),
            participants=list(participants),
        )

    return make
