"""The menu on the CRM: real checks and answers, answers merged onto the call."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from kartoteka.callcenter import services as calls
from kartoteka.callcenter.models import Call
from kartoteka.ivr import crm, engine, runtime
from kartoteka.ivr.models import Node, Session
from tests.callcenter.conftest import IVAN_PHONE, event
from tests.ivr.conftest import press


def test_a_deal_number_is_checked_against_the_crm(deal, ivan, carol):
    assert crm.check("deal", str(deal.pk), ivan.pk) == engine.Checked(
        True, ivan.pk, {"_deal": str(deal.pk)}
    )
    assert crm.check("deal", str(deal.pk), None).client_id == ivan.pk
    assert not crm.check("deal", str(deal.pk), ivan.pk + 1000).ok  # another client's deal
    assert not crm.check("deal", "999999", None).ok
    assert not crm.check("deal", "²", None).ok
    assert not crm.check("deal", "1" * 40, None).ok
    assert crm.check("client", str(ivan.pk), None) == engine.Checked(True, ivan.pk)
    assert crm.check("phone", "89161234567", None) == engine.Checked(True, ivan.pk)
    assert not crm.check("phone", "12", None).ok


def test_answers_read_real_deals(deal, ivan):
    caller = {"_caller": str(ivan.pk)}  # the caller's own number found ivan
    open_deals = crm.answer("open_deals", ivan.pk, caller)
    assert (
        open_deals.text == "You have 1 open deal for 15000.00 RUB." and open_deals.digits == "15000"
    )
    stage = crm.answer("deal_stage", ivan.pk, {**caller, "_deal": str(deal.pk)})
    assert f"Deal {deal.pk}: {deal.stage.name}." in stage.text and "20.12.2026" in stage.text
    assert crm.answer("last_invoice", ivan.pk, caller).text == "You have no invoices."
    assert crm.answer("open_deals", None, {}).text == "We could not find your account."


def test_a_session_walks_the_menu_and_the_call_card_gets_the_answers(menu, deal, ivan):
    session, step = runtime.start_session("webhook", "c-77", IVAN_PHONE, "+74950000000")
    assert step.last == engine.Collect(1, 5, 1)
    press(session.token, "1")
    press(session.token, "1")
    _s, step = press(session.token, str(deal.pk))
    call = Call.objects.get(provider="webhook", call_id="c-77")
    assert call.ivr == {
        "menu": "Hotline",
        "path": "Billing › Deal number › Stage › Billing",
        "deal": str(deal.pk),
    }
    assert call.client_id == ivan.pk
    _s, step = press(session.token, "*")
    _s, step = press(session.token, "2")
    assert step.last == engine.Route("sales")
    call.refresh_from_db()
    assert call.ivr["queue"] == "sales" and call.ivr["deal"] == str(deal.pk)
    with pytest.raises(engine.Ended):
        press(session.token, "1")


def test_ivr_answers_merge_with_what_telephony_events_wrote(menu):
    calls.handle_event(event("ringing", "c-78", ivr={"lang": "ru"}))
    session, _step = runtime.start_session("webhook", "c-78", IVAN_PHONE, "+74950000000")
    press(session.token, "2")
    calls.handle_event(event("queued", "c-78", queue="sales", ivr={"vip": "yes"}))
    call = Call.objects.get(call_id="c-78")
    assert call.ivr == {
        "lang": "ru",
        "menu": "Hotline",
        "path": "Sales",
        "queue": "sales",
        "vip": "yes",
    }
    assert call.status == Call.Status.QUEUED and Call.objects.filter(call_id="c-78").count() == 1


def test_no_menu_for_an_unknown_number(menu):
    with pytest.raises(runtime.NoMenu):
        runtime.start_session("webhook", "c-79", IVAN_PHONE, "+70000000001")
    menu.is_active = False
    menu.save()
    with pytest.raises(runtime.NoMenu):
        runtime.start_session("webhook", "c-79", IVAN_PHONE, "+74950000000")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_every_key():
    """Two threads merging different keys into one call lose neither (PostgreSQL locks the row;
    SQLite's IMMEDIATE transactions serialize)."""
    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite test databases are not shared between threads")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                runtime.record_on_call("webhook", "race", {f"k{n}_{i}": "v"}, caller=IVAN_PHONE)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(Call.objects.get(call_id="race").ivr) == 20


def test_nodes_keep_their_kinds_fields_only(menu, admin):
    route = Node.objects.get(menu=menu, title="Sales")
    assert route.validation == "" and route.queue is not None


def test_a_concurrent_press_at_the_same_step_loses(menu, monkeypatch):
    """Two requests read step 1; the one that writes second is refused (no row lock on SQLite)."""
    session, _step = runtime.start_session("webhook", "c-80", IVAN_PHONE, "+74950000000")
    before = session.state
    feed = engine.feed

    def racer_wins_meanwhile(*args, **kwargs):
        # the other request commits step 2 while this one computes
        Session.objects.filter(pk=session.pk).update(steps=2, state={"racer": True})
        return feed(*args, **kwargs)

    monkeypatch.setattr(engine, "feed", racer_wins_meanwhile)
    with pytest.raises(runtime.StaleStep):
        runtime.feed_session(session.token, "1", 1)
    # The loser wrote nothing (here the stand-in racer shared its transaction, so it is undone too).
    session.refresh_from_db()
    assert (session.steps, session.state) == (1, before)
