"""The contact centre's cast: olga and oleg are operators in the Sales team (helen heads it),
ivan is a client whose owner is alice; events are built and signed here."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from typing import Any

import pytest
from django.utils import timezone

from kartoteka.callcenter.models import Operator
from kartoteka.callcenter.providers.base import CallEvent, CallEventKind, Direction
from kartoteka.callcenter.providers.webhook.provider import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)
from kartoteka.clients import services as client_services
from kartoteka.clients.services import PhoneIn
from tests.conftest import make_user

SECRET = "test-webhook-secret-0123456789"
IVAN_PHONE = "+79161234567"
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.TELEPHONY_CONFIG = {**settings.TELEPHONY_CONFIG, "secret": SECRET}


def make_operator(username: str, extension: str, team: Any = None, **extra: Any) -> Operator:
    user = make_user(username, role="operator", first_name=username.title())
    if team is not None:
        team.members.add(user)
    return Operator.objects.create(
        user=user, extension=extension, since=timezone.now(), status="available", **extra
    )


@pytest.fixture
def olga(sales) -> Operator:
    return make_operator("olga", "101", sales)


@pytest.fixture
def oleg(sales) -> Operator:
    return make_operator("oleg", "102", sales)


@pytest.fixture
def ivan(alice):
    return client_services.create_client(
        alice,
        "person",
        {"last_name": "Ivanov", "first_name": "Ivan", "owner": alice},
        phones=[PhoneIn("8 (916) 123-45-67")],
    )


T0 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


def event(
    kind: str,
    call_id: str = "c1",
    *,
    at: dt.datetime | None = None,
    seconds: float = 0,
    event_id: str | None = None,
    **fields: Any,
) -> CallEvent:
    fields.setdefault("caller", "+7 916 123-45-67")
    return CallEvent(
        provider="webhook",
        event_id=event_id or f"e{next(_ids)}",
        kind=CallEventKind(kind),
        call_id=call_id,
        at=(at or T0) + dt.timedelta(seconds=seconds),
        direction=Direction(fields.pop("direction", "in")),
        **fields,
    )


def signed(body: dict | list | bytes, secret: str = SECRET, stamp: int | None = None) -> dict:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = str(int(time.time()) if stamp is None else stamp)
    return {
        "data": raw,
        "content_type": "application/json",
        "headers": {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, raw)},
    }


def wire(kind: str, call_id: str = "w1", event_id: str | None = None, **fields: Any) -> dict:
    body = {
        "id": event_id or f"w{next(_ids)}",
        "type": f"call.{kind}",
        "call_id": call_id,
        "at": timezone.now().isoformat(),
        "from": "8 916 123 45 67",
        "to": "+74950000000",
    }
    body.update(fields)
    return body


@pytest.fixture
def moscow(settings):
    """The KPI tests' local days and hours are Moscow's, whatever TIME_ZONE the run has."""
    settings.TIME_ZONE = "Europe/Moscow"


@pytest.fixture
def world(moscow, olga, ivan):
    """The KPI tests' calls (tests/callcenter/kpi_data.py)."""
    from tests.callcenter.kpi_data import make_world

    return make_world(olga, ivan)
