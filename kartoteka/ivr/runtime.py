"""Menus at run time: the tree the engine walks, step sessions of the JSON API, and what the
caller chose written onto the call (`Call.ivr`) for the operator's card."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.callcenter import lookup
from kartoteka.callcenter.models import Call
from kartoteka.ivr import crm, engine
from kartoteka.ivr.models import Menu, Node, Session
from kartoteka.ivr.services import normalize_number

SESSION_DAYS = 1  # a step session outlives any call
IVR_KEYS = 20  # Call.ivr keeps at most this many keys, as the webhook schema does
ATTEMPTS = 3


class NoMenu(Exception):
    """No active menu answers this number."""


def texts() -> engine.Texts:
    return engine.Texts(
        invalid=_("Sorry, that is not a valid choice."),
        goodbye=_("Goodbye."),
        transfer=_("Please hold, connecting you to an operator."),
    )


def load_tree(menu: Menu) -> engine.Tree:
    rows = Node.objects.filter(menu=menu).select_related("queue").order_by("position", "id")
    fallback = menu.fallback_queue.name if menu.fallback_queue_id and menu.fallback_queue else ""
    return engine.Tree.build((row.as_engine() for row in rows), fallback, texts())


def menu_for(number: str, menu_id: int | None = None) -> Menu:
    """The active menu answering `number` (or the one named by id); NoMenu otherwise."""
    rows = Menu.objects.filter(is_active=True).select_related("fallback_queue")
    if menu_id is not None:
        menu = rows.filter(pk=menu_id).first()
    else:
        key = normalize_number(number)
        menu = rows.filter(number=key).first() if key else None
    if menu is None:
        raise NoMenu
    return menu


# --- what reaches the call card --------------------------------------------------------------


def answers(menu: Menu, tree: engine.Tree, state: engine.State) -> dict[str, str]:
    """The caller's way and entries as Call.ivr keeps them: flat text, for card and pop."""
    found = {"menu": menu.name, "path": engine.readable_path(tree, state)}
    found.update(engine.shown(state.values))
    if state.queue:
        found["queue"] = state.queue
    return {str(k)[:60]: str(v)[:200] for k, v in found.items()}


def record_on_call(
    provider: str,
    call_id: str,
    values: dict[str, str],
    *,
    caller: str = "",
    callee: str = "",
    client_id: int | None = None,
) -> None:
    """Merge `values` into the call's IVR answers, creating the call if the PBX has not told us
    of it yet. Keys the telephony events wrote stay; the row is locked (PostgreSQL) or the
    transaction is IMMEDIATE (SQLite), so two writers never lose each other's keys."""
    key = {"provider": provider[:20], "call_id": call_id[:150]}
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                call = Call.objects.select_for_update().filter(**key).first()
                if call is None:
                    call = Call(**key, started_at=timezone.now())
                    call.caller, call.caller_e164 = caller[:80], lookup.e164(caller)
                    call.callee, call.callee_e164 = callee[:80], lookup.e164(callee)
                merged = {**call.ivr, **values}
                call.ivr = dict(list(merged.items())[:IVR_KEYS])
                if call.client_id is None and client_id is not None:
                    call.client_id = client_id
                call.version += 1
                call.save()
            return
        except IntegrityError:
            if attempt == ATTEMPTS - 1:  # another writer created the call: merge into it
                raise


# --- step sessions of the JSON API -----------------------------------------------------------


def start_session(
    provider: str, call_id: str, caller: str, callee: str, menu_id: int | None = None
) -> tuple[Session, engine.Step]:
    menu = menu_for(callee, menu_id)
    tree = load_tree(menu)
    client_id = crm.caller_client(caller)
    step = engine.start(tree, crm.CRM, client_id)
    cutoff = timezone.now() - dt.timedelta(days=SESSION_DAYS)
    Session.objects.filter(updated_at__lt=cutoff).delete()
    session = Session.objects.create(
        token=secrets.token_urlsafe(32),
        menu=menu,
        provider=provider,
        call_id=call_id,
        caller=caller,
        callee=callee,
        state=step.state.to_json(),
        steps=1,
    )
    _remember(session, menu, tree, step.state)
    return session, step


class StaleStep(Exception):
    """The request's step is not the session's: a replay, or a PBX that lost an answer."""

    def __init__(self, current: int) -> None:
        super().__init__(current)
        self.current = current


def feed_session(token: str, digits: str | None, step: int | None) -> tuple[Session, engine.Step]:
    """The caller's next input, accepted once: `step` must be the session's step number (sent in
    the previous answer), so a replayed request is StaleStep and changes nothing.
    Session.DoesNotExist for an unknown token, engine.Ended after the call routed or hung up."""
    with transaction.atomic():
        session = Session.objects.select_for_update().select_related("menu").get(token=token)
        if step != session.steps:
            raise StaleStep(session.steps)
        tree = load_tree(session.menu)
        next_step = engine.feed(tree, crm.CRM, engine.State.from_json(session.state), digits)
        session.state = next_step.state.to_json()
        session.steps += 1
        # Conditional on the step too: SQLite has no row lock, two racers must not both win.
        won = Session.objects.filter(pk=session.pk, steps=session.steps - 1).update(
            state=session.state, steps=session.steps, updated_at=timezone.now()
        )
        if not won:
            raise StaleStep(session.steps)
    _remember(session, session.menu, tree, next_step.state)
    return session, next_step


def _remember(session: Session, menu: Menu, tree: engine.Tree, state: engine.State) -> None:
    record_on_call(
        session.provider,
        session.call_id,
        answers(menu, tree, state),
        caller=session.caller,
        callee=session.callee,
        client_id=state.client_id,
    )


def action_json(step: engine.Step) -> dict[str, Any]:
    """A step as the JSON API answers it."""
    say = [
        {"text": a.text, "sound": a.sound, "digits": a.digits}
        for a in step.actions
        if isinstance(a, engine.Say)
    ]
    last = step.last
    then: dict[str, Any]
    if isinstance(last, engine.Collect):
        then = {
            "type": "collect",
            "min_digits": last.min_digits,
            "max_digits": last.max_digits,
            "timeout_s": last.timeout_s,
        }
    elif isinstance(last, engine.Route):
        then = {"type": "route", "queue": last.queue}
    else:
        then = {"type": "hangup"}
    return {"say": say, "then": then, "values": engine.shown(step.state.values)}
