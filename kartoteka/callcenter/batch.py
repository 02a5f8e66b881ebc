"""Group commit: many telephony events applied in one transaction, each exactly as
services.handle_event would apply it alone.

Why: at hundreds of events a second the sink's cost is per transaction and per statement —
the ledger row, the call's lock, the operator's lock, BEGIN and COMMIT — for every event. A
batch claims all its events in one ledger statement, locks its calls and operators in one
statement each (in primary-key order, so two batches meeting on the same rows wait rather
than deadlock) and commits once. The screen pops and status pushes are sent when it commits.

Nothing is lost: if anything in the batch fails, the whole transaction rolls back and the
events are applied again one by one (services.handle_event, one transaction each), so a bad
or unlucky event fails alone and the others are applied. The caller learns, per event,
whether it was applied (None) or why not (the exception).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kartoteka.callcenter import lookup, services, timeline
from kartoteka.callcenter.locks import Locked, call_key
from kartoteka.callcenter.models import ProcessedEvent
from kartoteka.callcenter.providers.base import CallEvent, Event, OperatorEvent
from kartoteka.core import realtime

log = logging.getLogger(__name__)
MAX_EVENTS = 200  # per transaction: its locks are held until it commits
Outcome = Exception | None
LEDGER_COLUMNS = ("provider", "event_id", "call_ref", "kind", "at", "received_at")


def handle_batch(events: Sequence[Event]) -> list[Outcome]:
    """Apply `events` (in this order) once each; one outcome per event."""
    if not events:
        return []
    try:
        with realtime.gathered(), transaction.atomic():
            _apply_all(events)
        return [None] * len(events)
    except Exception:  # rolled back: nothing of the batch is written; one by one below
        log.warning("a batch of %d events failed; applying them one by one", len(events))
    outcomes: list[Outcome] = []
    for event in events:
        try:
            services.handle_event(event)
        except Exception as exc:
            log.exception("telephony event %s could not be applied", event.event_id)
            outcomes.append(exc)
        else:
            outcomes.append(None)
    return outcomes


def _apply_all(events: Sequence[Event]) -> None:
    fresh = _claim_all(events)
    todo = []
    for event in events:
        key = _key(event)
        if key in fresh:  # not a redelivery, nor a repeat inside this batch
            fresh.discard(key)
            todo.append(event)
    rows = Locked()
    rows.preload(
        (call_key(e.provider, e.call_id) for e in todo if isinstance(e, CallEvent)),
        (
            e.extension
            for e in todo
            if isinstance(e, OperatorEvent) or e.kind in services.TAKES_OPERATOR
        ),
    )
    rows.known_numbers(lookup.client_ids_many(_numbers(todo, rows)))
    for event in todo:
        services.apply(event, rows)
    timeline.sync_many(rows.entries())
    rows.flush()


def _numbers(events: Sequence[Event], rows: Locked) -> set[str]:
    """The numbers whose clients the events may look up: those of calls without a client."""
    found: set[str] = set()
    for event in events:
        if isinstance(event, CallEvent):
            call = rows.call(call_key(event.provider, event.call_id))
            if call is None or call.client_id is None:
                found.update((lookup.e164(event.caller), lookup.e164(event.callee)))
    return found - {""}


def _key(event: Event) -> tuple[str, str]:
    row = services.ledger_row(event)
    return row["provider"], row["event_id"]


def _claim_all(events: Sequence[Event]) -> set[tuple[str, str]]:
    """The ledger rows of all the events in one statement; returns the keys that were new
    (a key already in the ledger, or twice in the batch, is returned once or not at all)."""
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    params: list[Any] = []
    for event in events:
        row = services.ledger_row(event)
        at = ops.adapt_datetimefield_value(row["at"])
        params += [row["provider"], row["event_id"], row["call_ref"], row["kind"], at, now]
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(events))
    table = ops.quote_name(ProcessedEvent._meta.db_table)
    columns = ", ".join(ops.quote_name(c) for c in LEDGER_COLUMNS)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608  # nosec B608 - our names
        " ON CONFLICT (provider, event_id) DO NOTHING RETURNING provider, event_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(provider, event_id) for provider, event_id in cursor.fetchall()}
