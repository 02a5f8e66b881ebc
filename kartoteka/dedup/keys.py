"""The key table: name keys per client, written by the clients' service and the bulk loaders."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from kartoteka.dedup import engine
from kartoteka.dedup.models import ClientKey

KEY_COLS = ("client_id", "key")
# Columns of the bulk loaders' client rows (clients.demo_words.CLIENT_COLS) the keys need.
_NEEDED = ("id", "kind", "last_name", "first_name", "company_name", "legal_form")


def stable_hash(key: str) -> int:
    """A signed 64-bit hash that is the same in every process (Python's hash() is not)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def hashes(prepared: engine.Prepared) -> list[int]:
    return sorted({stable_hash(k) for k in engine.name_keys(prepared)})


def _record(kind: str, last: str, first: str, company: str, form: str, pk: int = 0) -> Any:
    return engine.prepare(
        engine.Record(
            id=pk,
            kind=kind,
            last_name=last,
            first_name=first,
            company_name=company,
            legal_form=form,
        )
    )


def refresh(client: Any) -> None:
    """Rewrite one client's keys (inside the caller's transaction)."""
    prepared = _record(
        client.kind, client.last_name, client.first_name, client.company_name, client.legal_form
    )
    wanted = hashes(prepared)
    have = sorted(ClientKey.objects.filter(client_id=client.pk).values_list("key", flat=True))
    if have == wanted:
        return
    ClientKey.objects.filter(client_id=client.pk).delete()
    ClientKey.objects.bulk_create(ClientKey(client_id=client.pk, key=k) for k in wanted)


def rows_for_client_rows(
    columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> list[tuple[int, int]]:
    """Key rows for clients written in bulk as tuples of `columns`."""
    at = [columns.index(c) for c in _NEEDED]
    out: list[tuple[int, int]] = []
    for row in rows:
        pk, kind, last, first, company, form = (row[i] for i in at)
        out.extend((pk, h) for h in hashes(_record(kind, last, first, company, form)))
    return out


def write_for_client_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from kartoteka.clients.bulk import table, write_rows

    write_rows(table(ClientKey), KEY_COLS, rows_for_client_rows(columns, rows))


def analyze() -> None:
    """Fresh planner statistics for the key table. Bulk loads write millions of keys at once;
    without statistics PostgreSQL reads `key IN (…) LIMIT n` by scanning the whole table
    (300 ms at 1M clients instead of 1 ms) until autovacuum, if it runs at all, gets to it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {ClientKey._meta.db_table}")


def forget(client: Any) -> None:
    """After an erasure: no key, pair or merge snapshot keeps what the client was called."""
    from django.db.models import Q

    from kartoteka.dedup.models import Candidate, Merge

    refresh(client)
    Candidate.objects.filter(Q(a=client) | Q(b=client)).delete()
    Merge.objects.filter(Q(survivor=client) | Q(loser=client)).update(snapshot={})
