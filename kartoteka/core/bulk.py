"""Appending many rows without model instances: COPY on PostgreSQL, executemany on SQLite.

psycopg 3 re-parses large multi-row INSERTs in Python (~80 ms per 1,000 rows), which is what
`bulk_create` sends; COPY costs a fraction of that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def table(model: type[Model]) -> str:
    return str(model._meta.db_table)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def write_rows(name: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Append rows to a table (inside the caller's transaction); no signals, no defaults."""
    if not rows:
        return
    connection.ensure_connection()
    raw = connection.connection.cursor()
    names = ", ".join(columns)
    try:
        if is_postgres():
            with raw.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            raw.executemany(f"INSERT INTO {name} ({names}) VALUES ({marks})", rows)  # noqa: S608  # nosec B608
    finally:
        raw.close()
