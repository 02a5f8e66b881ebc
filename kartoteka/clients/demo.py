"""`kartoteka demo`: load realistic demo data in bulk, fast enough for a million clients.

Rows come from `demo_rows` as plain tuples (no model instances) and are written in chunks:
PostgreSQL through COPY FROM STDIN, SQLite through executemany, one transaction per chunk.
Client ids are reserved after the current maximum, so a load can add to a database that
already holds data. For a large load the search index is dropped and rebuilt once at the end
with the other secondary indexes (SQLite: the FTS5 triggers and 'rebuild' with the very
statements of the migration that defines them). The indexes are rebuilt even after an error;
only a load killed outright leaves them missing (re-create them from a backup's schema).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.clients import demo_words, search_index
from kartoteka.clients.demo_rows import Chunk, Generator, Summary
from kartoteka.clients.models import Client, Email, Employment, Phone, Tag
from kartoteka.clients.services import touch_last_contact

MANAGERS = 20
CHUNK_SIZE = 50_000
BULK_THRESHOLD = 10_000  # from this many clients on, the search index is rebuilt once at the end
_MANAGER_NAMES = [
    ("Анна", "Соколова"),
    ("Игорь", "Белов"),
    ("Мария", "Кузнецова"),
    ("Олег", "Павлов"),
    ("Елена", "Морозова"),
    ("Сергей", "Волков"),
    ("Ольга", "Лебедева"),
    ("Дмитрий", "Орлов"),
    ("Наталья", "Зайцева"),
    ("Павел", "Егоров"),
    ("Ирина", "Козлова"),
    ("Андрей", "Титов"),
]


def _table(model: Any) -> str:
    return str(model._meta.db_table)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def ensure_managers(count: int = MANAGERS) -> list[int]:
    """Ids of the demo users manager01…; missing ones are created with unusable passwords."""
    names = [f"manager{i:02d}" for i in range(1, count + 1)]
    have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    missing = []
    for i, name in enumerate(names):
        if name not in have:
            first, last = _MANAGER_NAMES[i % len(_MANAGER_NAMES)]
            missing.append(
                User(
                    username=name,
                    first_name=first,
                    last_name=last,
                    email=f"{name}@example.com",
                    password=make_password(None),
                )
            )
    User.objects.bulk_create(missing, ignore_conflicts=True)
    return list(
        User.objects.filter(username__in=names).order_by("username").values_list("id", flat=True)
    )


def ensure_tags() -> list[int]:
    names = demo_words.TAGS
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=names).order_by("name").values_list("id", flat=True))


def reserve_client_ids(count: int) -> int:
    """The first of `count` fresh client ids (after the current maximum and the sequence)."""
    table = _table(Client)
    with connection.cursor() as cursor:
        if _postgres():
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            (sequence,) = cursor.fetchone()
            cursor.execute(
                f"SELECT setval(%s, GREATEST(COALESCE(MAX(id), 0), "  # noqa: S608 - model table  # nosec B608
                f"COALESCE(pg_sequence_last_value(%s::regclass), 0)) + %s) FROM {table}",
                [sequence, sequence, count],
            )
            return int(cursor.fetchone()[0]) - count + 1
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - model table  # nosec B608
        top = int(cursor.fetchone()[0])
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
        return max(top, int(cursor.fetchone()[0])) + 1


def write_rows(table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Append rows to a table: COPY on PostgreSQL, executemany on SQLite; no model instances."""
    if not rows:
        return
    connection.ensure_connection()
    raw = connection.connection.cursor()
    names = ", ".join(columns)
    try:
        if _postgres():
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608  # nosec B608
    finally:
        raw.close()


def write_chunk(chunk: Chunk) -> None:
    tags = Client.tags.through
    with transaction.atomic():
        write_rows(_table(Client), demo_words.CLIENT_COLS, chunk.clients)
        write_rows(_table(Phone), demo_words.PHONE_COLS, chunk.phones)
        write_rows(_table(Email), demo_words.EMAIL_COLS, chunk.emails)
        write_rows(_table(Employment), demo_words.JOB_COLS, chunk.jobs)
        write_rows(_table(tags), demo_words.TAG_COLS, chunk.tags)
        write_rows(_table(Interaction), demo_words.INTERACTION_COLS, chunk.interactions)


def _tables() -> list[str]:
    return [_table(m) for m in (Client, Phone, Email, Employment, Client.tags.through, Interaction)]


def secondary_indexes() -> list[tuple[str, str]]:
    """(name, CREATE statement) of the loaded tables' non-unique indexes that back no constraint."""
    with connection.cursor() as cursor:
        if _postgres():
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "WHERE t.relname = ANY(%s) AND NOT i.indisunique AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
                [_tables()],
            )
        else:
            marks = ", ".join(["%s"] * len(_tables()))
            where = f"tbl_name IN ({marks}) AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%'"
            query = "SELECT '\"' || name || '\"', sql FROM sqlite_master WHERE type = 'index' AND "
            cursor.execute(query + where + " ORDER BY name", _tables())
        return [(name, sql) for name, sql in cursor.fetchall()]


def _index_statements() -> tuple[list[str], list[str]]:
    """(drop, create) for the indexes and the SQLite FTS triggers, as they are defined now.

    The triggers and the FTS rebuild come from kartoteka.clients.search_index.
    """
    indexes = secondary_indexes()
    drops = [f"DROP INDEX {name}" for name, _sql in indexes]
    creates = [sql for _name, sql in indexes]
    if _postgres():
        if connection.in_atomic_block:  # deferred foreign-key checks must run before CREATE INDEX
            creates = ["SET CONSTRAINTS ALL IMMEDIATE", *creates, "SET CONSTRAINTS ALL DEFERRED"]
        return drops, creates
    drops += [f"DROP TRIGGER IF EXISTS {name}" for name in search_index.TRIGGERS]
    creates += [search_index.SQLITE_REBUILD, *search_index.TRIGGERS.values()]
    return drops, creates


@contextmanager
def bulk_mode(rebuild_index: bool) -> Iterator[None]:
    """Session settings for a bulk load; when `rebuild_index`, the secondary indexes (and the
    SQLite search triggers) are dropped first and built once at the end, even after an error."""
    drops, creates = _index_statements() if rebuild_index else ([], [])
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
    if _postgres():
        cursor.execute("SET synchronous_commit TO off")
        cursor.execute("SET maintenance_work_mem TO '1GB'")
        return ["RESET synchronous_commit", "RESET maintenance_work_mem"]
    restore = []
    for pragma, value in (("cache_size", -1_000_000), ("synchronous", 0)):
        if pragma == "synchronous" and connection.in_atomic_block:
            continue  # SQLite cannot change it inside a transaction
        cursor.execute(f"PRAGMA {pragma}")
        restore.append(f"PRAGMA {pragma} = {int(cursor.fetchone()[0])}")
        cursor.execute(f"PRAGMA {pragma} = {value}")
    return restore


def analyze() -> None:
    tables = _tables()
    with connection.cursor() as cursor:
        if _postgres():
            cursor.execute(f"ANALYZE {', '.join(tables)}")
        else:
            cursor.execute("PRAGMA analysis_limit = 4000")
            for table in tables:
                cursor.execute(f"ANALYZE {table}")


def load(
    clients: int,
    seed: int = 1,
    interactions_per_client: float = 5,
    *,
    chunk_size: int = CHUNK_SIZE,
    bulk_threshold: int = BULK_THRESHOLD,
    now: int | None = None,
    progress: Callable[[Summary], None] | None = None,
) -> Summary:
    """Add `clients` demo clients with their contacts, links, tags and interactions."""
    started = time.monotonic()
    first_id = reserve_client_ids(clients) if clients else 1
    generator = Generator(
        seed,
        ensure_managers(),
        ensure_tags(),
        now=now or int(time.time()),
        per_client=interactions_per_client,
        postgres=_postgres(),
        base=first_id,
    )
    done = Summary(0, 0, 0, 0.0)
    gc.disable()  # millions of short-lived tuples: the cycle collector would only slow the load
    try:
        _load_chunks(generator, first_id, clients, chunk_size, bulk_threshold, done, progress)
    finally:
        gc.enable()
    analyze()
    done.seconds = time.monotonic() - started
    return done


def _load_chunks(
    generator: Generator,
    first_id: int,
    clients: int,
    chunk_size: int,
    bulk_threshold: int,
    done: Summary,
    progress: Callable[[Summary], None] | None,
) -> None:
    started = time.monotonic()
    with bulk_mode(clients >= bulk_threshold):
        for start in range(0, clients, chunk_size):
            chunk = generator.chunk(first_id + start, min(chunk_size, clients - start))
            write_chunk(chunk)
            done.clients += len(chunk.clients)
            done.interactions += len(chunk.interactions)
            done.rows += chunk.rows()
            done.seconds = time.monotonic() - started
            if progress:
                progress(done)


def add_interactions(client_id: int, count: int, seed: int = 1, now: int | None = None) -> int:
    """Give one client `count` more interactions (a heavy card for benchmarks)."""
    owner = Client.all_objects.values_list("owner_id", flat=True).get(pk=client_id)
    now = now or int(time.time())
    generator = Generator(seed, ensure_managers(), [], now=now, per_client=0, postgres=_postgres())
    rows = [
        generator.interaction(client_id, owner, now - generator.r.randint(0, demo_words.YEARS3))
        for _ in range(count)
    ]
    with transaction.atomic():
        write_rows(_table(Interaction), demo_words.INTERACTION_COLS, rows)
        touch_last_contact(client_id)
    return len(rows)
