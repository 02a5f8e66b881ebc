"""The substring index behind search: pg_trgm on PostgreSQL, FTS5 trigram on SQLite.

SQLite migrations that alter clients_client rebuild the table and drop its triggers, so
`ensure()` runs after every migrate (apps.py) and restores them, rebuilding the index.
"""

from __future__ import annotations

from typing import Any

FTS = "clients_client_fts"
TRIGGERS = {
    f"{FTS}_ai": f"CREATE TRIGGER IF NOT EXISTS {FTS}_ai AFTER INSERT ON clients_client BEGIN "  # nosec B608
    f"INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"{FTS}_ad": f"CREATE TRIGGER IF NOT EXISTS {FTS}_ad AFTER DELETE ON clients_client BEGIN "  # nosec B608
    f"INSERT INTO {FTS}({FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    f"{FTS}_au": f"CREATE TRIGGER IF NOT EXISTS {FTS}_au AFTER UPDATE OF search_text ON clients_client "  # nosec B608
    f"BEGIN INSERT INTO {FTS}({FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text); END",
}
SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(search_text, content='clients_client', "
    "content_rowid='id', tokenize='trigram')"
)
SQLITE_REBUILD = f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')"  # nosec B608
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE INDEX IF NOT EXISTS client_search_trgm ON clients_client "
    "USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL",
    # Managers search their own clients: owner and text in one index, so PostgreSQL
    # intersects them instead of reading every match and dropping other owners' rows.
    "CREATE INDEX IF NOT EXISTS client_owner_search_trgm ON clients_client "
    "USING gin (owner_id, search_text gin_trgm_ops) WHERE deleted_at IS NULL",
]


def ensure(connection: Any) -> None:
    """Create whatever part of the index is missing; rebuild the SQLite index if it was."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for sql in POSTGRES:
                cursor.execute(sql)
            return
        if connection.vendor != "sqlite":
            return
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", [f"{FTS}_%"]
        )
        present = {row[0] for row in cursor.fetchall()}
        if present == set(TRIGGERS):
            return
        cursor.execute(SQLITE_TABLE)
        for sql in TRIGGERS.values():
            cursor.execute(sql)
        cursor.execute(SQLITE_REBUILD)


def drop_sqlite_triggers(connection: Any) -> None:
    """For bulk loads: drop the triggers; `ensure()` restores them and rebuilds once."""
    with connection.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
