"""An IVR caller whose own number the CRM does not know may type any deal number (ids are
sequential): the call card gets the deal and its client, but the caller hears nothing of that
client's account (stage, dates, totals, invoices)."""

from __future__ import annotations

import pytest

from kartoteka.callcenter.models import Call
from kartoteka.ivr import runtime
from tests.callcenter.conftest import IVAN_PHONE
from tests.ivr.conftest import DID, press

pytestmark = pytest.mark.django_db


def said(step) -> str:
    return " ".join(getattr(a, "text", "") for a in step.actions)


def walk_to_the_stage(caller: str, deal) -> str:
    session, _step = runtime.start_session("webhook", f"c-{caller}", caller, DID)
    press(session.token, "1")
    press(session.token, "1")
    _s, step = press(session.token, str(deal.pk))
    return said(step)


def test_an_unknown_number_typing_a_deal_hears_nothing_of_it(menu, deal, ivan):
    text = walk_to_the_stage("+70000000001", deal)
    assert deal.stage.name not in text and "20.12.2026" not in text
    assert "We could not find your account." in text
    call = Call.objects.get(call_id="c-+70000000001")
    assert call.ivr["deal"] == str(deal.pk) and call.client_id == ivan.pk  # for the operator


def test_the_clients_own_number_hears_the_stage(menu, deal, ivan):
    text = walk_to_the_stage(IVAN_PHONE, deal)
    assert f"Deal {deal.pk}: {deal.stage.name}." in text and "20.12.2026" in text
