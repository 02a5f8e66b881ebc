"""Bulk writes that bypass model instances: the demo loader and imports of a million rows.

PostgreSQL gets COPY FROM STDIN, SQLite executemany. A large load may drop the secondary
indexes (and the SQLite search triggers) and build them once at the end, which is several times
faster than maintaining them row by row; they are rebuilt even after an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.models import Model

from kartoteka.clients import search_index
from kartoteka.clients.models import Client
from kartoteka.core.bulk import is_postgres, table, write_rows

__all__ = ["is_postgres", "table", "write_rows"]  # re-exported: loaders import them from here


def reserve_client_ids(count: int) -> int:
    """The first of `count` fresh client ids (after the current maximum and the sequence).

    For one loader at a time (the demo); concurrent writers use `allocate_ids`.
    """
    name = table(Client)
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [name])
            (sequence,) = cursor.fetchone()
            cursor.execute(
                f"SELECT setval(%s, GREATEST(COALESCE(MAX(id), 0), "  # noqa: S608 - model table  # nosec B608
                f"COALESCE(pg_sequence_last_value(%s::regclass), 0)) + %s) FROM {name}",
                [sequence, sequence, count],
            )
            return int(cursor.fetchone()[0]) - count + 1
        return _sqlite_next_id(cursor, name)


def _sqlite_next_id(cursor: Any, name: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {name}")  # noqa: S608 - model table  # nosec B608
    top = int(cursor.fetchone()[0])
    cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [name])
    return max(top, int(cursor.fetchone()[0])) + 1


def allocate_ids(model: type[Model], count: int) -> list[int]:
    """`count` ids no other writer will take: from the sequence on PostgreSQL; on SQLite the
    caller's write transaction holds the database lock, so the ids after the maximum are free."""
    if count <= 0:
        return []
    name = table(model)
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [name, count],
            )
            return [row[0] for row in cursor.fetchall()]
        first = _sqlite_next_id(cursor, name)
    return list(range(first, first + count))


def secondary_indexes(tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the tables' non-unique indexes that back no constraint."""
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "WHERE t.relname = ANY(%s) AND NOT i.indisunique AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
                [list(tables)],
            )
        else:
            marks = ", ".join(["%s"] * len(tables))
            where = f"tbl_name IN ({marks}) AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%'"
            query = "SELECT '\"' || name || '\"', sql FROM sqlite_master WHERE type = 'index' AND "
            cursor.execute(query + where + " ORDER BY name", list(tables))
        return [(name, sql) for name, sql in cursor.fetchall()]


def foreign_keys(tables: Sequence[str]) -> list[tuple[str, str, str]]:
    """(table, constraint, definition) of the PostgreSQL tables' foreign keys, quoted."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) "
            "ORDER BY 1, 2",
            [list(tables)],
        )
        return [(quote(t), quote(c), d) for t, c, d in cursor.fetchall()]


def _index_statements(
    tables: Sequence[str], keep: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """(drop, create) for the indexes not named in `keep` (by prefix) and the search triggers."""
    indexes = [
        (n, sql) for n, sql in secondary_indexes(tables) if not n.strip('"').startswith(tuple(keep))
    ]
    drops = [f"DROP INDEX {name}" for name, _sql in indexes]
    creates = [sql for _name, sql in indexes]
    if is_postgres():
        # Foreign keys too: checked row by row they cost more than the load; re-adding one
        # validates the whole table in one query.
        keys = foreign_keys(tables)
        drops = [f"ALTER TABLE {t} DROP CONSTRAINT {c}" for t, c, _d in keys] + drops
        creates = [f"ALTER TABLE {t} ADD CONSTRAINT {c} {d}" for t, c, d in keys] + creates
        if connection.in_atomic_block:  # pending deferred checks forbid ALTER TABLE: run them
            immediate, deferred = "SET CONSTRAINTS ALL IMMEDIATE", "SET CONSTRAINTS ALL DEFERRED"
            drops = [immediate, *drops, deferred]
            creates = [immediate, *creates, deferred]
        return drops, creates
    if table(Client) in tables:
        drops += [f"DROP TRIGGER IF EXISTS {name}" for name in search_index.TRIGGERS]
        creates += [search_index.SQLITE_REBUILD, *search_index.TRIGGERS.values()]
    return drops, creates


@contextmanager
def bulk_mode(
    tables: Sequence[str], rebuild_index: bool, keep: Sequence[str] = ()
) -> Iterator[None]:
    """Session settings for a bulk load; when `rebuild_index`, the tables' secondary indexes
    but `keep` (and the SQLite search triggers) are dropped first and built once at the end."""
    drops, creates = _index_statements(tables, keep) if rebuild_index else ([], [])
    with connection.cursor() as cursor:
        restore = _session_settings(cursor)
        for sql in drops:
            cursor.execute(sql)
        try:
            yield
        finally:
            for sql in creates + restore:
                cursor.execute(sql)


def _session_settings(cursor: Any) -> list[str]:
    """Make the session fast for a load; the statements that restore it."""
    if is_postgres():
        cursor.execute("SET synchronous_commit TO off")
        cursor.execute("SET maintenance_work_mem TO '1GB'")
        return ["RESET synchronous_commit", "RESET maintenance_work_mem"]
    restore = []
    # A 256 MB page cache: big enough for index builds, small enough for a 1 GiB memory budget.
    for pragma, value in (("cache_size", -256_000), ("synchronous", 0)):
        if pragma == "synchronous" and connection.in_atomic_block:
            continue  # SQLite cannot change it inside a transaction
        cursor.execute(f"PRAGMA {pragma}")
        restore.append(f"PRAGMA {pragma} = {int(cursor.fetchone()[0])}")
        cursor.execute(f"PRAGMA {pragma} = {value}")
    return restore


def analyze(tables: Sequence[str]) -> None:
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(f"ANALYZE {', '.join(tables)}")
        else:
            cursor.execute("PRAGMA analysis_limit = 4000")
            for name in tables:
                cursor.execute(f"ANALYZE {name}")
