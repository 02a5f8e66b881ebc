"""What one transaction of the event sink holds, one Python object per row, in two phases.

Phase one applies every event to its call (the calls locked, in primary-key order, when a
batch starts). What an event does to operators — ringing, on a call, after-call work, the
PBX's pauses — is queued (`later`) and done in phase two (`flush`), in the events' order, with
the operators locked then, in primary-key order, all at once. Why: operators are the hot rows
(every call of an operator's touches the same row), and two transactions that need the same
operator run one after the other; holding those locks only for the last, short part of a
batch — not while its calls, timelines and call-back tasks are written — lets batches of the
two web processes overlap. Each phase sees the other's effects as if the events ran one by
one: phase one touches only calls, phase two only operators and their history.

The calls themselves are written once, when phase two starts: the new ones in one INSERT,
the changed ones in one UPDATE (core.bulk), however many events touched them; what needs
their ids (call-back tasks, pops, operators on a call) runs after that.

A single event (services.handle_event) uses an eager one: it locks its operator when it
looks it up (nothing else waits in its transaction) and flushes at its end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.db.models import QuerySet

from kartoteka.callcenter import lookup
from kartoteka.callcenter.models import Call, Operator
from kartoteka.core import bulk

CallKey = tuple[str, str]  # (provider, call id), cut to the columns' lengths
# What the PBX's events change on a saved call: never the operator's result and summary, nor
# the call-back columns (their own UPDATEs), which a full-row save could overwrite.
EVENT_FIELDS = (
    *("status", "answered_at", "ended_at", "end_reason", "recording_url", "queue", "ivr"),
    *("caller", "caller_e164", "callee", "callee_e164", "started_at", "client", "operator"),
    *("user", "extension", "interaction", "version", "updated_at"),
)


def call_key(provider: str, call_id: str) -> CallKey:
    return provider[:20], call_id[:150]


def _calls() -> QuerySet[Call]:
    # NO KEY UPDATE: history rows may still reference the call (their foreign key's check).
    # Not with its user: a batch's timeline entries need only the id, and the user's row
    # cost more to read than the call's.
    return Call.objects.select_for_update(no_key=True)


def _operators() -> QuerySet[Operator]:
    return Operator.objects.select_for_update(no_key=True)


class Locked:
    def __init__(self, *, eager: bool = False) -> None:
        self._eager = eager
        self._calls: dict[CallKey, Call | None] = {}
        # Operators by extension as read in phase one, unlocked: who they are, not their state.
        self._refs: dict[str, Operator | None] = {}
        self._operators: dict[int, Operator] = {}  # locked in phase two
        self._later: list[Callable[[], None]] = []
        self._dirty: dict[CallKey, Call] = {}  # calls to write when phase two starts
        self._saved: list[Callable[[], None]] = []  # then these, which need their ids
        self._held: set[int] = set()  # calls whose holders are all locked
        self._all_held = False
        self._entries: dict[CallKey, Call] = {}  # timeline entries, written at the end
        self._numbers: dict[str, list[int]] = {}  # clients by E.164 number

    @property
    def eager(self) -> bool:
        return self._eager

    def entry(self, call: Call) -> None:
        """The call's timeline entry, written with the batch's others (timeline.sync_many)."""
        self._entries[(call.provider, call.call_id)] = call

    def entries(self) -> list[Call]:
        entries, self._entries = list(self._entries.values()), {}
        return entries

    def preload(self, calls: Iterable[CallKey], extensions: Iterable[str]) -> None:
        """Lock the batch's calls in primary-key order (two batches meeting on the same calls
        wait for each other instead of deadlocking) and look its operators up."""
        wanted = {key for key in calls if key not in self._calls}
        for provider in sorted({p for p, _c in wanted}):  # one order in every process
            where, params = bulk.any_of("call_id", [c for p, c in wanted if p == provider])
            rows = bulk.select_models(
                Call, f"provider = %s AND {where}", [provider, *params], lock=True
            )
            for call in rows:
                self._calls[(call.provider, call.call_id)] = call
        for key in wanted:
            self._calls.setdefault(key, None)
        exts = {e[:40] for e in extensions if e} - self._refs.keys()
        if exts:
            where, params = bulk.any_of("extension", sorted(exts))
            for op in bulk.select_models(Operator, f"deleted_at IS NULL AND {where}", params):
                self._refs[op.extension] = op
            for ext in exts:
                self._refs.setdefault(ext, None)

    def known_numbers(self, found: dict[str, list[int]]) -> None:
        """Clients by number, looked up for the whole batch at once (lookup.client_ids_many)."""
        self._numbers.update(found)

    def client_ids(self, number: str) -> list[int]:
        if number not in self._numbers:
            self._numbers[number] = lookup.client_ids(number)
        return self._numbers[number]

    def call(self, key: CallKey) -> Call | None:
        if key not in self._calls:
            self._calls[key] = _calls().filter(provider=key[0], call_id=key[1]).first()
        return self._calls[key]

    def add_call(self, call: Call) -> None:
        self._calls[(call.provider, call.call_id)] = call

    def save(self, call: Call) -> None:
        """Write the call (new or changed) with the others when phase two starts."""
        self._dirty[(call.provider, call.call_id)] = call

    def when_saved(self, action: Callable[[], None]) -> None:
        """Run `action` once the calls are written, before the operators are locked."""
        self._saved.append(action)

    def operator(self, extension: str) -> Operator | None:
        """Phase one: the operator at this extension (its id and user; its state is read
        locked, in phase two, through `locked`)."""
        if not extension:
            return None
        ext = extension[:40]
        if ext not in self._refs:
            rows = _operators() if self._eager else Operator.objects.all()
            found = self._refs[ext] = rows.filter(extension=ext).first()
            if found is not None and self._eager:
                self._operators[found.pk] = found
        return self._refs[ext]

    def later(self, action: Callable[[], None]) -> None:
        """Run `action` in phase two (it may use `locked` and `operators_on`)."""
        self._later.append(action)

    def flush(self) -> None:
        """Phase two: lock the operators the events named and every operator one of the
        calls holds (rung, on it), in primary-key order, then run what was queued. The calls
        are written first."""
        dirty, self._dirty = list(self._dirty.values()), {}
        new = [c for c in dirty if c.pk is None]
        bulk.update_models([c for c in dirty if c.pk is not None], EVENT_FIELDS)
        bulk.insert_models(new)
        saved, self._saved = self._saved, []
        for action in saved:
            action()
        if not self._later:
            return
        if not self._eager:
            named = [op.pk for op in self._refs.values() if op is not None]
            calls = [c.pk for c in self._calls.values() if c is not None and c.pk is not None]
            mine, by_id = bulk.any_of("id", named)
            holding, by_call = bulk.any_of("call_id", calls)
            where = f"deleted_at IS NULL AND ({mine} OR {holding})"
            for op in bulk.select_models(Operator, where, [*by_id, *by_call], lock=True):
                self._operators.setdefault(op.pk, op)
            self._all_held = True
        actions, self._later = self._later, []
        for action in actions:
            action()

    def locked(self, operator: Operator) -> Operator | None:
        """Phase two: the locked row of an operator found in phase one (None if deleted)."""
        return self._operators.get(operator.pk)

    def operators_on(self, call: Call, statuses: Sequence[str]) -> list[Operator]:
        """Phase two: operators this call holds in one of `statuses` (ring-all rings several);
        all of them locked (by `flush`, or here), with this transaction's changes."""
        if not self._all_held and call.pk not in self._held:
            for op in _operators().filter(call=call).order_by("pk"):
                self._operators.setdefault(op.pk, op)
            self._held.add(call.pk)
        found = [op for op in self._operators.values() if op.call_id == call.pk]
        return sorted((op for op in found if op.status in statuses), key=lambda op: op.pk)
