"""Quality's cast: helen heads Sales and evaluates; olga and oleg are operators in Sales; carol
manages another team. Calls are made directly: answered, ended, most with a recording."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from kartoteka.accounts.models import User
from kartoteka.callcenter.models import Call
from kartoteka.quality import services
from kartoteka.quality.models import Scorecard
from kartoteka.quality.services import CriterionIn
from tests.callcenter.conftest import make_operator

T0 = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)  # a Monday
_ids = itertools.count(1)
RECORDING = "https://pbx.example.com/rec/1.wav"


@pytest.fixture
def olga(sales):
    return make_operator("olga", "101", sales).user


@pytest.fixture
def oleg(sales):
    return make_operator("oleg", "102", sales).user


def make_call(user: User | None, at: dt.datetime = T0, **extra: Any) -> Call:
    fields: dict[str, Any] = {
        "provider": "webhook",
        "call_id": f"q{next(_ids)}",
        "status": Call.Status.ENDED,
        "caller": "+79161234567",
        "caller_e164": "+79161234567",
        "user": user,
        "started_at": at,
        "answered_at": at + dt.timedelta(seconds=5),
        "ended_at": at + dt.timedelta(seconds=125),
        "recording_url": RECORDING,
        "queue": "sales",
    }
    fields.update(extra)
    return Call.objects.create(**fields)


def two_criteria() -> list[CriterionIn]:
    return [
        CriterionIn("Greeting", weight=1),
        CriterionIn("Solved the issue", weight=3, kind="scale", max_score=4),
    ]


@pytest.fixture
def scorecard(helen) -> Scorecard:
    return services.save_scorecard(
        helen, None, name="Basic", is_active=True, criteria=two_criteria()
    )
