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
from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.db import transaction

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.clients import demo_words
from kartoteka.clients.bulk import (
    analyze,
    bulk_mode,
    is_postgres,
    reserve_client_ids,
    secondary_indexes,
    table,
    write_rows,
)
from kartoteka.clients.demo_rows import Chunk, Generator, Summary
from kartoteka.clients.models import Client, Email, Employment, Phone, Tag
from kartoteka.clients.services import touch_last_contact
from kartoteka.dedup import keys as dedup_keys

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


def _tables() -> list[str]:
    return [table(m) for m in (Client, Phone, Email, Employment, Client.tags.through, Interaction)]


def demo_indexes() -> list[tuple[str, str]]:
    return secondary_indexes(_tables())


def write_chunk(chunk: Chunk) -> None:
    tags = Client.tags.through
    with transaction.atomic():
        write_rows(table(Client), demo_words.CLIENT_COLS, chunk.clients)
        dedup_keys.write_for_client_rows(demo_words.CLIENT_COLS, chunk.clients)
        write_rows(table(Phone), demo_words.PHONE_COLS, chunk.phones)
        write_rows(table(Email), demo_words.EMAIL_COLS, chunk.emails)
        write_rows(table(Employment), demo_words.JOB_COLS, chunk.jobs)
        write_rows(table(tags), demo_words.TAG_COLS, chunk.tags)
        write_rows(table(Interaction), demo_words.INTERACTION_COLS, chunk.interactions)


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
        postgres=is_postgres(),
        base=first_id,
    )
    done = Summary(0, 0, 0, 0.0)
    gc.disable()  # millions of short-lived tuples: the cycle collector would only slow the load
    try:
        _load_chunks(generator, first_id, clients, chunk_size, bulk_threshold, done, progress)
    finally:
        gc.enable()
    analyze(_tables())
    dedup_keys.analyze()  # the duplicate check reads the key table right after a load
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
    with bulk_mode(_tables(), clients >= bulk_threshold):
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
    generator = Generator(
        seed, ensure_managers(), [], now=now, per_client=0, postgres=is_postgres()
    )
    rows = [
        generator.interaction(client_id, owner, now - generator.r.randint(0, demo_words.YEARS3))
        for _ in range(count)
    ]
    with transaction.atomic():
        write_rows(table(Interaction), demo_words.INTERACTION_COLS, rows)
        touch_last_contact(client_id)
    return len(rows)
