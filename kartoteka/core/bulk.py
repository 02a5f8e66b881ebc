"""Many rows in one statement, cheaper than the ORM's bulk methods.

- `write_rows` appends rows without model instances: COPY on PostgreSQL, executemany on
  SQLite. psycopg 3 re-parses large multi-row INSERTs in Python (~80 ms per 1,000 rows),
  which is what `bulk_create` sends; COPY costs a fraction of that.
- `select_models` reads instances by a WHERE of our own, `any_of` its IN list: compiling the
  ORM's query cost twice what running it did (the telephony sink reads three times a batch).
- `insert_models` and `update_models` write a handful of model instances (the telephony
  sink's batches) in one statement each. Per row, `save()` costs about 0.4 ms of Python in
  the ORM, `bulk_create` nearly as much, and `bulk_update` (a CASE per field and row) more
  than the saves it replaces; these build the SQL directly from the fields.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


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


Fields = tuple["Field[Any, Any]", ...]


def _write(model: type[Model], fields: Fields, rows: Sequence[Model], add: bool, sql: str) -> Any:
    """Run `sql` with the rows' values of `fields` as its source `v` — on PostgreSQL one JSON
    parameter (json_to_recordset: psycopg's client-side binding splits and quotes every
    placeholder in Python, which cost more than the ORM saved), on SQLite a VALUES list."""
    conn = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` costs a lookup per access
    if conn.vendor == "postgresql":
        # The values go as Python has them; PostgreSQL reads them by the recordset's types.
        names = [f.column for f in fields]
        data = [
            dict(zip(names, (f.pre_save(obj, add) for f in fields), strict=True)) for obj in rows
        ]
        source, prefix, params = _recordset(fields), "", [json.dumps(data, default=_json)]
    else:
        params = [f.get_db_prep_save(f.pre_save(obj, add), conn) for obj in rows for f in fields]
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        columns = ", ".join(conn.ops.quote_name(f.column) for f in fields)
        source, prefix = "v", f"WITH v ({columns}) AS (VALUES {', '.join([row] * len(rows))}) "
    with conn.cursor() as cursor:
        cursor.execute(sql.format(prefix=prefix, source=source), params)
        return cursor.fetchall() if cursor.description else []


@functools.cache
def _recordset(fields: Fields) -> str:
    conn = connections[DEFAULT_DB_ALIAS]
    types = ", ".join(f"{conn.ops.quote_name(f.column)} {f.db_type(conn)}" for f in fields)
    return f"json_to_recordset(%s::json) AS v ({types})"


def _json(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):  # with its microseconds and offset, unlike Django's
        return value.isoformat()
    return str(value)  # Decimal, UUID


@functools.cache
def _insert(model: type[Model]) -> tuple[Fields, str]:
    meta = model._meta
    fields = tuple(cast("Field[Any, Any]", f) for f in meta.concrete_fields if f is not meta.pk)
    q = connection.ops.quote_name
    columns = ", ".join(q(f.column) for f in fields)
    return fields, (
        f"{{prefix}}INSERT INTO {q(table(model))} ({columns}) SELECT {columns}"  # noqa: S608  # nosec B608 - our names
        f" FROM {{source}} RETURNING {q(meta.pk.column)}"
    )


def insert_models(rows: Sequence[Model]) -> None:
    """INSERT new instances of one model in one statement and set their primary keys (with
    auto_now and defaults as `save()` would; no signals)."""
    if not rows:
        return
    fields, sql = _insert(type(rows[0]))
    for obj, (pk,) in zip(rows, _write(type(rows[0]), fields, rows, True, sql), strict=True):
        obj.pk = pk
        obj._state.adding = False


@functools.cache
def _update(model: type[Model], names: tuple[str, ...]) -> tuple[Fields, str]:
    pk = cast("Field[Any, Any]", model._meta.pk)
    fields = (pk, *(cast("Field[Any, Any]", model._meta.get_field(n)) for n in names))
    q = connection.ops.quote_name
    name, key = q(table(model)), q(pk.column)
    sets = ", ".join(f"{q(f.column)} = v.{q(f.column)}" for f in fields[1:])
    return fields, (
        f"{{prefix}}UPDATE {name} SET {sets} FROM {{source}} WHERE {name}.{key} = v.{key}"  # noqa: S608  # nosec B608 - our names
    )


def update_models(rows: Sequence[Model], names: Sequence[str]) -> None:
    """UPDATE saved instances of one model in one statement: their fields `names` (an auto_now
    one among them is set to now, as `save()` would)."""
    if rows:
        fields, sql = _update(type(rows[0]), tuple(names))
        _write(type(rows[0]), fields, rows, False, sql)


def any_of(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """`column` among `values` (a quoted column name): one array parameter on PostgreSQL, so
    the statement's text is the same for any number of values (prepared once)."""
    if not values:
        return "1 = 0", []
    if is_postgres():
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def select_models(
    model: type[M], where: str, params: Sequence[Any], *, lock: bool = False
) -> list[M]:
    """Instances of `model` WHERE `where`, in key order; with lock=True locked as
    select_for_update(no_key=True) would (PostgreSQL; SQLite writes one at a time).
    No manager's filter applies: `where` says which rows are live."""
    conn = connections[DEFAULT_DB_ALIAS]
    select, names = _select(model)
    sql = f"{select} WHERE {where} ORDER BY {conn.ops.quote_name(model._meta.pk.column)}"
    if lock and conn.vendor == "postgresql":
        sql += " FOR NO KEY UPDATE"
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found = []
    for row in rows:
        values = list(row)
        for at, (converters, column) in _converters(model, conn.vendor):
            for convert in converters:
                values[at] = convert(values[at], column, conn)
        found.append(model.from_db(conn.alias, names, values))
    return found


@functools.cache
def _select(model: type[Model]) -> tuple[str, list[str]]:
    q = connection.ops.quote_name
    fields = model._meta.concrete_fields
    columns = ", ".join(q(f.column) for f in fields)
    return f"SELECT {columns} FROM {q(table(model))}", [f.attname for f in fields]  # noqa: S608  # nosec B608 - our names


@functools.cache
def _converters(model: type[Model], vendor: str) -> list[tuple[int, tuple[list[Any], Any]]]:
    """What the ORM applies to each column read (SQLite's dates, JSON's text), by position."""
    conn = connections[DEFAULT_DB_ALIAS]
    found = []
    for at, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(table(model))
        converters = conn.ops.get_db_converters(column) + column.get_db_converters(conn)
        if converters:
            found.append((at, (converters, column)))
    return found
