"""Every write of the contact centre. Providers hand their events to `handle_event`; pages and
the API call the rest.

THE SINK CONTRACT: `handle_event(event)` is idempotent on (provider, event_id) through the
ProcessedEvent ledger, tolerates events out of order (an ENDED before its ANSWERED, an ANSWERED
for a call never seen ringing creates it) and records what it can about unknown operators and
queues instead of raising.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.callcenter import callbacks, lookup, reservations, statuses, timeline
from kartoteka.callcenter.locks import Locked, call_key
from kartoteka.callcenter.models import (
    BreakReason,
    Call,
    Disposition,
    Operator,
    ProcessedEvent,
    Queue,
)
from kartoteka.callcenter.providers import active
from kartoteka.callcenter.providers.base import (
    CallEvent,
    CallEventKind,
    Event,
    OperatorEvent,
    OperatorState,
    ProviderError,
    Unsupported,
)
from kartoteka.callcenter.statuses import Source, Status, set_status
from kartoteka.clients.models import Client
from kartoteka.clients.queries import visible_clients
from kartoteka.core import audit, permissions, realtime
from kartoteka.core.errors import StaleVersion
from kartoteka.core.permissions import Action, Denied

__all__ = ["click_to_call", "handle_event", "save_call_card", "set_status"]

log = logging.getLogger(__name__)
Kind = CallEventKind
FINAL = (Call.Status.ENDED, Call.Status.MISSED, Call.Status.ABANDONED, Call.Status.UNANSWERED)
ATTEMPTS = 3


# --- events from the PBX ----------------------------------------------------------------------


def handle_event(event: Event) -> None:
    """Apply one normalized event once; a repeat (same provider and event_id) changes nothing.
    Many at once, in one transaction: callcenter.batch.handle_batch."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                _claim(event)
                rows = Locked(eager=True)
                apply(event, rows)
                rows.flush()
            return
        except IntegrityError:
            # Two deliveries raced: either the ledger already has this event (done), or another
            # event created the same call first (try again: the call is there now).
            if ProcessedEvent.objects.filter(**_ledger_key(event)).exists():
                return
            if attempt == ATTEMPTS - 1:
                raise


def apply(event: Event, rows: Locked) -> None:
    """Apply an event already claimed in the ledger, inside the caller's transaction: its call
    now, its operators' part queued on `rows` until `rows.flush()` (see callcenter.locks)."""
    if isinstance(event, CallEvent):
        _apply_call(event, rows)
    else:
        _apply_operator(event, rows)


def _ledger_key(event: Event) -> dict[str, str]:
    return {"provider": event.provider[:20], "event_id": event.event_id[:200]}


def ledger_row(event: Event) -> dict[str, Any]:
    """The event's row in the ledger of applied events (ProcessedEvent)."""
    kind = event.kind if isinstance(event, CallEvent) else f"operator.{event.state}"
    return {
        **_ledger_key(event),
        "call_ref": event.call_id[:150] if isinstance(event, CallEvent) else "",
        "kind": str(kind)[:20],
        "at": event.at,
    }


def _claim(event: Event) -> None:
    """Write the event's ledger row; a redelivery fails on the unique key (IntegrityError),
    which handle_event reads as "done already" — no read before every write."""
    ProcessedEvent.objects.create(**ledger_row(event))


# Who an event concerns: only ringing and answered put the call on an operator.
TAKES_OPERATOR = (Kind.RINGING, Kind.ANSWERED)


def _fill(call: Call, event: CallEvent, rows: Locked) -> None:
    """Facts every event may carry: numbers, queue, IVR answers, an earlier start."""
    if event.caller and not call.caller:
        call.caller, call.caller_e164 = event.caller[:80], lookup.e164(event.caller)
    if event.callee and not call.callee:
        call.callee, call.callee_e164 = event.callee[:80], lookup.e164(event.callee)
    if event.queue:
        call.queue = event.queue[:80]
    if event.ivr:
        call.ivr = {**call.ivr, **{str(k)[:60]: str(v)[:200] for k, v in event.ivr.items()}}
    if event.at < call.started_at:
        call.started_at = event.at
    if call.client_id is None and call.number_e164:
        found = rows.client_ids(call.number_e164)
        if len(found) == 1:
            call.client_id = found[0]


def _outcome(call: Call) -> tuple[Any, ...]:
    """What the handlers change on a call: a new call is saved again only if one of them did."""
    return call.status, call.answered_at, call.ended_at, call.end_reason, call.recording_url


def _apply_call(event: CallEvent, rows: Locked) -> None:
    key = call_key(event.provider, event.call_id)
    call = rows.call(key)
    created = call is None
    if call is None:
        call = Call(
            provider=key[0], call_id=key[1], direction=str(event.direction), started_at=event.at
        )
    _fill(call, event, rows)
    operator = rows.operator(event.extension) if event.kind in TAKES_OPERATOR else None
    if operator is not None:
        call.operator, call.user_id, call.extension = operator, operator.user_id, operator.extension
    else:
        if event.extension and event.kind in TAKES_OPERATOR:
            log.info("call %s: no operator has extension %s", call.call_id, event.extension)
        if event.extension and not call.extension:
            call.extension = event.extension[:40]
    if created:
        # Inserted whole when `rows` flushes. Another event inserting the same call at the same
        # moment fails the unique key: handle_event tries again and finds it.
        rows.add_call(call)
        if call.direction == Call.Direction.OUTBOUND:  # once this batch's lost calls are saved
            rows.when_saved(lambda: callbacks.called_back(call, call.started_at))
    before = _outcome(call)
    was_final = call.status in FINAL
    HANDLERS[event.kind](call, event, operator, rows)
    entry = call.status in FINAL and (not was_final or event.kind == Kind.ANSWERED)
    if entry and rows.eager:  # on the client's timeline; the call's write links it
        timeline.sync(call, link=False)
    elif entry:  # a batch writes its calls' entries together, at its end
        rows.entry(call)
    if not created or entry or _outcome(call) != before:
        call.version += 1
    rows.save(call)
    if call.status in FINAL:
        _after_final(call, event, rows)


def _ringing(call: Call, event: CallEvent, operator: Operator | None, rows: Locked) -> None:
    if operator is None or call.status in FINAL or call.answered_at:
        return
    inbound = call.direction == Call.Direction.INBOUND

    def ring() -> None:
        locked = rows.locked(operator)
        if locked is None:
            return
        # A reservation (the ACD chose him for a call) gives way to the ring itself.
        if inbound and (locked.status == Status.AVAILABLE or reservations.is_reserved(locked)):
            statuses.transition(locked, Status.RINGING, event.at, Source.CALL, call=call)
        _pop(locked.user_id, call, "ringing")

    rows.later(ring)


def _queued(call: Call, event: CallEvent, operator: Operator | None, rows: Locked) -> None:
    if call.status == Call.Status.RINGING:
        call.status = Call.Status.QUEUED


def _answered(call: Call, event: CallEvent, operator: Operator | None, rows: Locked) -> None:
    if call.answered_at is None or event.at < call.answered_at:
        call.answered_at = event.at
    if call.status in FINAL:
        # The end came first: the call was answered after all, so it is not a lost one.
        if call.status != Call.Status.ENDED:
            call.status = Call.Status.ENDED
            callbacks.withdraw(call)
        return
    call.status = Call.Status.ANSWERED

    def take() -> None:
        taker = rows.locked(operator) if operator is not None else None
        for other in rows.operators_on(call, [Status.RINGING]):
            if other is not taker:  # rang (ring-all) and not taken: available again
                statuses.transition(other, Status.AVAILABLE, event.at, Source.CALL)
        if taker is not None:
            statuses.transition(taker, Status.ON_CALL, event.at, Source.CALL, call=call)
            _pop(taker.user_id, call, "answered")

    rows.later(take)


def _end(call: Call, at: dt.datetime, lost: Call.Status) -> None:
    if call.ended_at is None or at > call.ended_at:
        call.ended_at = at
    if call.answered_at is not None:
        call.status = Call.Status.ENDED
    elif call.direction == Call.Direction.OUTBOUND:
        call.status = Call.Status.UNANSWERED
    elif call.status != Call.Status.ABANDONED:
        call.status = lost


def _ended(call: Call, event: CallEvent, operator: Operator | None, rows: Locked) -> None:
    _end(call, event.at, Call.Status.MISSED)
    call.end_reason = event.reason[:100] or call.end_reason


def _abandoned(call: Call, event: CallEvent, operator: Operator | None, rows: Locked) -> None:
    _end(call, event.at, Call.Status.ABANDONED)
    call.end_reason = event.reason[:100] or call.end_reason


def _recording(call: Call, event: CallEvent, operator: Operator | None, rows: Locked) -> None:
    if event.recording_url.startswith(("https://", "http://")):
        call.recording_url = event.recording_url[:500]


HANDLERS = {
    Kind.RINGING: _ringing,
    Kind.QUEUED: _queued,
    Kind.ANSWERED: _answered,
    Kind.ENDED: _ended,
    Kind.ABANDONED: _abandoned,
    Kind.RECORDING: _recording,
}


def _after_final(call: Call, event: CallEvent, rows: Locked) -> None:
    if event.kind not in (Kind.ENDED, Kind.ABANDONED):
        return
    at = call.ended_at or event.at
    user_id = call.user_id

    def release() -> None:
        # Operators it rang and did not take go back to available; the one on it to
        # after-call work.
        held = rows.operators_on(call, [Status.RINGING, Status.ON_CALL])
        for operator in sorted(held, key=lambda op: op.status != Status.RINGING):
            if operator.status == Status.RINGING:
                statuses.transition(operator, Status.AVAILABLE, at, Source.CALL)
                continue
            statuses.transition(operator, Status.AFTER_CALL, at, Source.CALL, call=call)
            if operator.acw_seconds == 0:
                statuses.transition(operator, Status.AVAILABLE, at, Source.TIMER)
        if user_id:
            _pop(user_id, call, "ended")

    rows.later(release)

    def call_back() -> None:  # as the batch left it: a later "answered" may have saved it
        if call.status in Call.LOST:
            callbacks.schedule(call)

    rows.when_saved(call_back)


@functools.cache
def _pop_path() -> str:
    """The pop's URL with a hole for the call: reverse() costs more than the rest of a pop."""
    return reverse("callcenter:pop", args=[HOLE]).replace(str(HOLE), "{}")


HOLE = 987654321


def _pop(user_id: int, call: Call, stage: str) -> None:
    """The screen pop: the call's card for the operator's open console, live."""
    realtime.publish(
        user_id,
        "call",
        {
            "call": call.pk,
            "stage": stage,
            "number": call.number,
            "pop": _pop_path().format(call.pk),
        },
    )


# --- what the PBX says of operators -----------------------------------------------------------


def _apply_operator(event: OperatorEvent, rows: Locked) -> None:
    found = rows.operator(event.extension)
    if found is None:
        log.info("operator event for unknown extension %s", event.extension)
        return
    reason = None
    if event.state == OperatorState.PAUSED:
        reason = BreakReason.objects.filter(name=event.reason[:100]).first()
    rows.later(lambda: _pbx_state(rows.locked(found), event, reason))


def _pbx_state(operator: Operator | None, event: OperatorEvent, reason: BreakReason | None) -> None:
    if operator is None:
        return
    current = operator.status
    if event.state == OperatorState.AVAILABLE:
        if current in (Status.BREAK, Status.OFFLINE, Status.AFTER_CALL):
            statuses.transition(operator, Status.AVAILABLE, event.at, Source.PBX)
    elif event.state == OperatorState.PAUSED:
        if current in (Status.AVAILABLE, Status.OFFLINE):
            statuses.transition(
                operator,
                Status.BREAK,
                event.at,
                Source.PBX,
                break_reason=reason,
                reason=event.reason,
            )
    elif current not in (Status.RINGING, Status.ON_CALL):
        statuses.transition(operator, Status.OFFLINE, event.at, Source.PBX, reason=event.reason)


# --- the call card ----------------------------------------------------------------------------

CARD_FIELDS = ("disposition", "summary", "client")
MAX_SUMMARY = 10_000


def save_call_card(
    actor: User, call: Call, expected_version: int | None, fields: dict[str, Any]
) -> Call:
    """The operator's result and summary (and the client, when the number matched several);
    the call's entry on the client's timeline follows."""
    errors: dict[str, list[str]] = {
        name: [_("This field cannot be set.")] for name in fields if name not in CARD_FIELDS
    }
    disposition = fields.get("disposition")
    if disposition is not None and not disposition.is_active:
        errors["disposition"] = [_("This result is no longer in use.")]
    summary = fields.get("summary")
    if summary is not None and len(summary) > MAX_SUMMARY:
        errors["summary"] = [_("At most %(n)d characters.") % {"n": MAX_SUMMARY}]
    client = fields.get("client")
    if client is not None and not visible_clients(actor).filter(pk=client.pk).exists():
        errors["client"] = [_("There is no such client.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = Call.objects.select_for_update().get(pk=call.pk)
        if not permissions.can(actor, Action.EDIT, row):
            raise Denied(Action.EDIT)
        if expected_version is not None and row.version != expected_version:
            raise StaleVersion(row.version)
        if "disposition" in fields:
            row.disposition = disposition
        if summary is not None:
            row.summary = summary.strip()
        if "client" in fields and client is not None:
            row.client = client
        row.version += 1
        row.save()
        if row.status in FINAL:
            timeline.sync(row)
    return row


# --- click-to-call ----------------------------------------------------------------------------


def click_to_call(actor: User, number: str) -> str:
    """Ring the actor's extension, then dial `number` through the active provider."""
    operator = Operator.objects.filter(user=actor).first()
    if operator is None:
        raise ValidationError({"number": [_("You have no extension: ask an administrator.")]})
    e164 = lookup.e164(number)
    if not e164:
        raise ValidationError(
            {"number": [_("%(value)s is not a valid phone number.") % {"value": number[:40]}]}
        )
    provider = active()
    if provider is None:
        raise ValidationError({"number": [_("No telephony is connected.")]})
    try:
        provider.originate(operator.extension, e164)
    except Unsupported:
        raise ValidationError(
            {"number": [_("This telephony cannot place calls from Kartoteka.")]}
        ) from None
    except ProviderError as exc:
        raise ValidationError(
            {"number": [_("The PBX did not place the call: %(error)s") % {"error": exc}]}
        ) from None
    return e164


def clients_for_pop(call: Call, viewer: User) -> list[lookup.Match]:
    return lookup.matches(call.number_e164, viewer)


def link_client(actor: User, call: Call, client: Client) -> Call:
    return save_call_card(actor, call, None, {"client": client})


# --- settings (administrators) ----------------------------------------------------------------


def add_setting(actor: User, form: Any) -> Any:
    """Save a validated settings form (a result, a break reason, an operator, a queue)."""
    permissions.require(actor, Action.CONFIGURE)
    with transaction.atomic():
        row = form.save(commit=False)
        if isinstance(row, Operator) and row.since is None:
            row.since = timezone.now()
        row.save()
        audit.record(actor, "configure", kind=str(row._meta.model_name), target_id=row.pk)
    return row


def toggle_setting(actor: User, row: Disposition | BreakReason) -> None:
    """Take a result or break reason out of use (calls keep it), or back into use."""
    permissions.require(actor, Action.CONFIGURE)
    with transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(is_active=not row.is_active)
        audit.record(actor, "configure", kind=str(row._meta.model_name), target_id=row.pk)


def remove_setting(actor: User, row: Queue) -> None:
    permissions.require(actor, Action.CONFIGURE)
    with transaction.atomic():
        row.delete()
        audit.record(
            actor, "configure", kind=str(row._meta.model_name), target_id="", removed=str(row)
        )
