"""Writing imported interactions and purchases onto the timelines of clients the user may see.

The client of a row is found by external id, INN, e-mail or phone. Purchases come from
accounting systems one line item a row: rows with the same document number make one purchase,
so they are gathered over the whole file and written at the end.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.clients.bulk import allocate_ids, is_postgres, table, write_rows
from kartoteka.clients.demo_words import INTERACTION_COLS
from kartoteka.clients.models import Client
from kartoteka.core import permissions
from kartoteka.core.permissions import Action
from kartoteka.transfer.models import ImportJob, OnDuplicate
from kartoteka.transfer.outcome import Outcome, add_ids
from kartoteka.transfer.rows import InteractionRecord

_LOOKUPS = {
    "external_id": "external_id",
    "inn": "inn",
    "phone": "phones__e164",
    "email": "emails__email",
}
_KEY_FIELDS = {key: f"client_{key}" for key in _LOOKUPS}  # the column each key is read from


class InteractionLoader:
    def __init__(self, job: ImportJob, outcome: Outcome, actor: User | None) -> None:
        self.job, self.outcome, self.actor = job, outcome, actor
        self.actor_id = getattr(actor, "pk", None)
        self.postgres = is_postgres()
        self.visible = permissions.scope(actor, Action.VIEW, Client.objects.all())
        self.may_name_authors = permissions.rights(actor).is_admin
        self.latest = timezone.now() + dt.timedelta(days=1)
        self.documents: dict[tuple[int, str], InteractionRecord] = {}  # purchases, by number
        self.purchases = job.entity == "purchases"

    def _clients(self, records: Sequence[InteractionRecord]) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        for key, lookup in _LOOKUPS.items():
            wanted = {r.keys[key] for r in records if key in r.keys}
            if wanted:
                query = self.visible.filter(**{f"{lookup}__in": wanted})
                for value, pk in query.values_list(lookup, "pk"):
                    found.setdefault((key, value), pk)
        return found

    def load(self, records: list[InteractionRecord]) -> None:
        clients = self._clients(records)
        ready: list[tuple[int, InteractionRecord]] = []
        for record in records:
            client_id = self._client_of(record, clients)
            if client_id is None or not self._allowed(record):
                continue
            if self.purchases:
                self._gather(client_id, record)
            else:
                ready.append((client_id, record))
        self._write(self._new_only(ready))

    def finish(self) -> None:
        """Write the purchases gathered from the whole file."""
        documents = [(client_id, r) for (client_id, _n), r in self.documents.items()]
        for start in range(0, len(documents), 2000):
            self._write(self._new_only(documents[start : start + 2000]))

    def _client_of(self, record: InteractionRecord, clients: dict[tuple[str, str], int]) -> Any:
        for key, value in record.keys.items():
            if (key, value) in clients:
                return clients[(key, value)]
        key = next(iter(record.keys))
        message = _("No client you may see has this %(what)s.") % {"what": _key_label(key)}
        self.outcome.reject(record.row, record.cells, [(_KEY_FIELDS[key], message)])
        return None

    def _allowed(self, record: InteractionRecord) -> bool:
        errors = []
        author = record.fields.get("author_id")
        if author not in (None, self.actor_id) and not self.may_name_authors:
            errors.append(("author", _("You may import only your own interactions.")))
        if record.fields["occurred_at"] > self.latest:
            errors.append(("occurred_at", _("An interaction cannot be in the future.")))
        if errors:
            self.outcome.reject(record.row, record.cells, errors)
        return not errors

    def _gather(self, client_id: int, record: InteractionRecord) -> None:
        number = record.fields.get("number") or f"row {record.row}"
        document = self.documents.setdefault((client_id, number), record)
        items = document.fields.setdefault("items", [])
        if record.item is not None:
            items.append(record.item)
        if document is not record and record.fields.get("amount") is not None:
            # Accounting exports give each line's sum: the document's amount is their total.
            document.fields["amount"] = (document.fields.get("amount") or 0) + record.fields[
                "amount"
            ]

    def _new_only(
        self, ready: list[tuple[int, InteractionRecord]]
    ) -> list[tuple[int, InteractionRecord]]:
        """Apply the duplicate policy: a purchase with the same number, an interaction of the
        same kind at the same moment, already on the client's timeline."""
        if self.job.on_duplicate == OnDuplicate.CREATE or not ready:
            return ready
        ids = {client_id for client_id, _r in ready}
        existing = Interaction.objects.filter(client__in=ids)
        if self.purchases:
            numbers = {r.fields.get("number") for _c, r in ready if r.fields.get("number")}
            known: set[tuple[Any, ...]] = set(
                existing.filter(kind="purchase", number__in=numbers).values_list("client", "number")
            )
            keys: list[tuple[Any, ...]] = [(c, r.fields.get("number")) for c, r in ready]
        else:
            moments = {r.fields["occurred_at"] for _c, r in ready}
            same = existing.filter(occurred_at__in=moments)
            known = set(same.values_list("client", "kind", "occurred_at"))
            keys = [(c, r.fields["kind"], r.fields["occurred_at"]) for c, r in ready]
        fresh = []
        for key, (client_id, record) in zip(keys, ready, strict=True):
            if key in known:
                self.outcome.skip(record.row, "", _("Already on the client's timeline."))
            else:
                fresh.append((client_id, record))
        return fresh

    def _write(self, ready: list[tuple[int, InteractionRecord]]) -> None:
        if not ready:
            return
        stamp = timezone.now()
        rows = [self._row(client_id, record, stamp) for client_id, record in ready]
        ids = allocate_ids(Interaction, len(rows))
        columns = ("id", *INTERACTION_COLS)
        write_rows(
            table(Interaction), columns, [(pk, *row) for pk, row in zip(ids, rows, strict=True)]
        )
        add_ids(self.outcome.created_interactions, ids)
        self.outcome.created += len(ids)
        touched = {client_id for client_id, _r in ready}
        per_client = Interaction.objects.filter(client=OuterRef("pk")).values("client")
        newest = per_client.annotate(at=Max("occurred_at")).values("at")
        Client.all_objects.filter(pk__in=touched).update(last_contact_at=Subquery(newest))

    def _row(
        self, client_id: int, record: InteractionRecord, stamp: dt.datetime
    ) -> tuple[Any, ...]:
        f = record.fields
        items = f.get("items") or []
        amount = f.get("amount")
        if amount is None and items:
            amount = sum(
                (Decimal(i.get("quantity") or 1) * Decimal(i.get("price") or 0) for i in items),
                Decimal(0),
            ).quantize(Decimal("0.01"))
        for item in items:
            item.setdefault("quantity", "1")
            item.setdefault("price", "0")
        author = f.get("author_id", self.actor_id)
        when = f["occurred_at"]
        times = (stamp, when) if self.postgres else (_sqlite_time(stamp), _sqlite_time(when))
        kind = f["kind"]
        self.outcome.show(record.row, {"client": client_id, "kind": kind, "at": when.isoformat()})
        # fmt: off
        return (times[0], times[0], None, client_id, kind, times[1], author, f.get("channel", ""),
                f.get("subject", ""), f.get("summary", ""), f.get("direction", ""),
                f.get("duration_seconds"), f.get("result", ""),
                None if amount is None else str(amount),
                f.get("currency", "") if amount is not None else "",
                json.dumps(items, ensure_ascii=False),
                "open" if kind == Interaction.Kind.COMPLAINT else "", f.get("number", ""))
        # fmt: on


def _sqlite_time(moment: dt.datetime) -> str:
    """UTC as Django's SQLite backend writes it (microseconds only when there are some), so
    that the stored value equals what a later lookup by that moment compares against."""
    return str(moment.astimezone(dt.UTC).replace(tzinfo=None))


def _key_label(key: str) -> str:
    return {
        "external_id": _("external id"),
        "inn": _("INN"),
        "phone": _("phone"),
        "email": _("e-mail"),
    }[key]
