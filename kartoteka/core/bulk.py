"""Many rows in one statement, cheaper than the ORM's bulk methods.

- `write_rows` appends rows without model instances: COPY on PostgreSQL, executemany on
  SQLite. psycopg 3 re-parses large multi-row INSERTs in Python (~80 ms per 1,000 rows),
  which is what `bulk_create` sends; COPY costs a fraction of that.
- `insert_models` and `update_models` write a handful of model instances (the telephony
  sink's batches) in one statement each. Per row, `save()` costs about 0.4 ms of Python in
  the ORM, `bulk_create` nearly as much, and `bulk_update` (a CASE per field and row) more
  than the saves it replaces; these build the SQL directly from the fields.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model


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


def _write(
    model: type[Model],
    fields: list[Field[Any, Any]],
    rows: Sequence[Model],
    add: bool,
    statement: str,
) -> list[tuple[Any, ...]]:
    """Run `statement` with the rows' values of `fields` as its source `v` — on PostgreSQL one
    JSON parameter (json_to_recordset: psycopg's client-side binding splits and quotes every
    placeholder in Python, which cost more than the ORM saved), on SQLite a VALUES list."""
    conn = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` costs a lookup per access
    q = conn.ops.quote_name
    postgres = conn.vendor == "postgresql"
    # In the JSON the values go as Python has them (PostgreSQL reads them by the types below).
    values = [
        [
            f.pre_save(obj, add) if postgres else f.get_db_prep_save(f.pre_save(obj, add), conn)
            for f in fields
        ]
        for obj in rows
    ]
    if postgres:
        names = [f.column for f in fields]
        data = json.dumps([dict(zip(names, row, strict=True)) for row in values], default=_json)
        types = ", ".join(f"{q(f.column)} {f.db_type(conn)}" for f in fields)
        source, params = f"json_to_recordset(%s::json) AS v ({types})", [data]
        sql = statement.format(table=q(table(model)), source=source, prefix="")
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        columns = ", ".join(q(f.column) for f in fields)
        prefix = f"WITH v ({columns}) AS (VALUES {', '.join([row] * len(rows))}) "
        params = [value for row_values in values for value in row_values]
        sql = statement.format(table=q(table(model)), source="v", prefix=prefix)
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _json(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):  # with its microseconds and offset, unlike Django's
        return value.isoformat()
    return str(value)  # Decimal, UUID


def insert_models(rows: Sequence[Model]) -> None:
    """INSERT new instances of one model in one statement and set their primary keys (with
    auto_now and defaults as `save()` would; no signals)."""
    if not rows:
        return
    model = type(rows[0])
    meta = model._meta
    fields = [cast("Field[Any, Any]", f) for f in meta.concrete_fields if f is not meta.pk]
    q = connection.ops.quote_name
    columns = ", ".join(q(f.column) for f in fields)
    statement = "{prefix}INSERT INTO {table} (%s) SELECT %s FROM {source} RETURNING %s"
    found = _write(model, fields, rows, True, statement % (columns, columns, q(meta.pk.column)))
    for obj, (pk,) in zip(rows, found, strict=True):
        obj.pk = pk
        obj._state.adding = False


def update_models(rows: Sequence[Model], names: Sequence[str]) -> None:
    """UPDATE saved instances of one model in one statement: their fields `names` (an auto_now
    one among them is set to now, as `save()` would)."""
    if not rows:
        return
    model = type(rows[0])
    pk = cast("Field[Any, Any]", model._meta.pk)
    fields = [pk, *(cast("Field[Any, Any]", model._meta.get_field(n)) for n in names)]
    q = connection.ops.quote_name
    sets = ", ".join(f"{q(f.column)} = v.{q(f.column)}" for f in fields[1:])
    key = q(pk.column)
    statement = "{prefix}UPDATE {table} SET %s FROM {source} WHERE {table}.%s = v.%s"
    _write(model, fields, rows, False, statement % (sets, key, key))
