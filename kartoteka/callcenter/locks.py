"""The rows one transaction of the event sink has locked, one Python object per row.

Every event of a group commit (callcenter.batch) sees the changes the events before it made
to a call or an operator, and each row is locked and read once per transaction, not once per
event. A single event (services.handle_event) uses a fresh one and reads lazily.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Q, QuerySet

from kartoteka.callcenter.models import Call, Operator

CallKey = tuple[str, str]  # (provider, call id), cut to the columns' lengths


def call_key(provider: str, call_id: str) -> CallKey:
    return provider[:20], call_id[:150]


def _calls() -> QuerySet[Call]:
    # With its operator's user: the timeline entry of an ended call is written as that user.
    return Call.objects.select_for_update(of=("self",)).select_related("user")


class Locked:
    def __init__(self) -> None:
        self._calls: dict[CallKey, Call | None] = {}
        self._by_extension: dict[str, Operator | None] = {}
        self._operators: dict[int, Operator] = {}
        # Calls whose operators are all held here (preloaded): who is on them is known.
        self._held: set[int] = set()

    def preload(self, calls: Iterable[CallKey], extensions: Iterable[str]) -> None:
        """Lock the batch's calls, then its operators, each in primary-key order: two batches
        that meet on the same rows wait for each other instead of deadlocking."""
        wanted = {key for key in calls if key not in self._calls}
        if wanted:
            match = Q(pk__in=[])
            for provider in {p for p, _c in wanted}:
                match |= Q(provider=provider, call_id__in=[c for p, c in wanted if p == provider])
            for call in _calls().filter(match).order_by("pk"):
                self._calls[(call.provider, call.call_id)] = call
            for key in wanted:
                self._calls.setdefault(key, None)
        exts = {e[:40] for e in extensions if e} - self._by_extension.keys()
        known = [c.pk for c in self._calls.values() if c is not None and c.pk not in self._held]
        if exts or known:
            # The events' operators and every operator one of the calls holds (ringing, on it).
            match = Q(extension__in=exts) | Q(call__in=known)
            for op in Operator.objects.select_for_update().filter(match).order_by("pk"):
                self._keep(op)
            for op in self._operators.values():
                self._by_extension[op.extension] = op
            for ext in exts:
                self._by_extension.setdefault(ext, None)
            self._held.update(known)

    def call(self, key: CallKey) -> Call | None:
        if key not in self._calls:
            self._calls[key] = _calls().filter(provider=key[0], call_id=key[1]).first()
        return self._calls[key]

    def add_call(self, call: Call) -> None:
        """A call this transaction created: only operators it put on the call hold it."""
        self._calls[(call.provider, call.call_id)] = call
        self._held.add(call.pk)

    def operator(self, extension: str) -> Operator | None:
        if not extension:
            return None
        ext = extension[:40]
        if ext not in self._by_extension:
            found = Operator.objects.select_for_update().filter(extension=ext).first()
            self._by_extension[ext] = self._keep(found) if found else None
        return self._by_extension[ext]

    def operators_on(self, call: Call, statuses: Sequence[str]) -> list[Operator]:
        """Operators this call holds in one of `statuses` (ring-all rings several), locked;
        the ones already held here are the same objects, with this transaction's changes."""
        if call.pk in self._held:
            found = [op for op in self._operators.values() if op.call_id == call.pk]
            return sorted((op for op in found if op.status in statuses), key=lambda op: op.pk)
        rows = Operator.objects.select_for_update().filter(call=call, status__in=statuses)
        return [self._keep(op) for op in rows.order_by("pk")]

    def _keep(self, operator: Operator) -> Operator:
        return self._operators.setdefault(operator.pk, operator)
