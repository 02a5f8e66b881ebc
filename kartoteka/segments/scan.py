"""The recompute's SQL: one pass over the purchases into temporary tables, the rest from those.

`months()` reads the interactions once, grouped per client, currency, month and position
(before the window, inside it, after it); every later figure — a client's totals, the
currencies left out, the cohorts and monthly sales — is grouped from that much smaller table.
`figures()` turns it into one row per live client (`TMP_FIG`), `final()` joins every live client
with their figures, their new classes (`TMP_NEW`, written by the caller) and their current row
of the class table, and computes the contact-cycle stage in SQL (`TMP_FINAL`); `history()` and
`store()` then write only what changed. The temporary tables live in the caller's transaction
and `drop()` removes them.

Months of purchases inside the window are counted against the month starts computed in Python
in the configured zone (exact, summer time included): `width_bucket` over an array on
PostgreSQL, a CASE over the same boundaries on SQLite. Day counts are compared with cut-off
times (`(now − t).days > n` ⇔ `t ≤ now − (n + 1) days`), so no database date arithmetic
decides a boundary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from kartoteka.activities.models import Interaction
from kartoteka.clients.bulk import bulk_mode
from kartoteka.clients.models import Client
from kartoteka.core.bulk import write_rows
from kartoteka.segments.cycle import CycleRule
from kartoteka.segments.measures import Window, _month, _zone_param, month_index, month_of
from kartoteka.segments.models import ClassChange, ClientClass

TMP_MONTHS = "tmp_seg_months"
TMP_FIG = "tmp_seg_fig"
TMP_NEW = "tmp_seg_new"
TMP_FINAL = "tmp_seg_final"
TEMPORARY = (TMP_MONTHS, TMP_FIG, TMP_NEW, TMP_FINAL)
NEW_COLUMNS = ("client_id", "abc", "xyz", "rfm", "cv", "periods")
BULK_ROWS = 100_000  # from this many new rows of the class table its indexes are rebuilt
# Flags of a purchase's position: before the window, inside, after it (before "as of").
BEFORE, INSIDE, AFTER = 0, 1, 2


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _run(sql: str, params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount or 0)


def _fetch(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@contextmanager
def sqlite_cache() -> Iterator[None]:
    """A 256 MB page cache for the main and the temporary database while the job runs (SQLite's
    default 2 MB would make its sorts and temporary tables go to disk page by page)."""
    if _pg():
        yield
        return
    schemas = ("main", "temp")
    before = [_fetch(f"PRAGMA {schema}.cache_size")[0][0] for schema in schemas]
    for schema in schemas:
        _run(f"PRAGMA {schema}.cache_size = -262144")
    try:
        yield
    finally:
        for schema, size in zip(schemas, before, strict=True):
            _run(f"PRAGMA {schema}.cache_size = {int(size)}")


def drop() -> None:
    for name in TEMPORARY:
        _run(f"DROP TABLE IF EXISTS {name}")


def _analyze(name: str) -> None:
    # PostgreSQL has no statistics on a fresh temporary table and would guess the join plans.
    if _pg():
        _run(f"ANALYZE {name}")


def _boundaries(window: Window, as_of: dt.datetime) -> tuple[int, list[dt.datetime]]:
    """The window's first month and the starts of the following months up to `as_of`'s."""
    zone = window.bounds()[0].tzinfo
    first = window.first_month
    last = max(window.last_month, month_index(as_of.astimezone(zone).date()))
    starts = [dt.datetime.combine(month_of(m), dt.time(), zone) for m in range(first + 1, last + 1)]
    return first, starts


def _month_of_row(window: Window, as_of: dt.datetime) -> tuple[str, list[Any]]:
    """SQL for the month index of `i.occurred_at` (a purchase in or after the window)."""
    first, starts = _boundaries(window, as_of)
    if not starts:
        return str(first), []
    if _pg():
        return "(%s + width_bucket(i.occurred_at, %s::timestamptz[]))", [first, starts]
    adapt = connection.ops.adapt_datetimefield_value
    cases = " ".join(f"WHEN i.occurred_at < %s THEN {first + k}" for k in range(len(starts)))
    params = [adapt(s) for s in starts]
    return f"(CASE {cases} ELSE {first + len(starts)} END)", params


def months(window: Window, as_of: dt.datetime) -> None:
    """`TMP_MONTHS`: purchases before `as_of` per client, currency, month and position.

    Purchases before the window get no month (one row per client and currency): only their
    earliest time and their count are needed."""
    start, end = window.bounds()
    adapt = connection.ops.adapt_datetimefield_value
    month, month_params = _month_of_row(window, as_of)
    # Whole kopecks: an integer sum keeps a small state per group (a numeric one is several
    # times larger, and there are millions of groups) and is exact on SQLite too.
    cents = "(i.amount * 100)::int8" if _pg() else "CAST(ROUND(i.amount * 100) AS INTEGER)"
    # SQLite would walk the index on the time (nearly every row, each a lookup in the table).
    whole = "" if _pg() else "NOT INDEXED"
    select = f"""
        SELECT i.client_id AS client_id, i.currency AS currency, flag,
               CASE WHEN flag = {BEFORE} THEN NULL ELSE {month} END AS month,
               SUM({cents}) AS cents, COUNT(*) AS n,
               MIN(i.occurred_at) AS first_at, MAX(i.occurred_at) AS last_at
        FROM (SELECT i.*, CASE WHEN i.occurred_at < %s THEN {BEFORE}
                               WHEN i.occurred_at < %s THEN {INSIDE} ELSE {AFTER} END AS flag
              FROM {Interaction._meta.db_table} i {whole}
              WHERE i.kind = 'purchase' AND i.deleted_at IS NULL AND i.amount IS NOT NULL
                AND i.occurred_at < %s) i
        GROUP BY 1, 2, 3, 4
    """  # noqa: S608  # nosec B608 - table names from the models
    params = [*month_params, adapt(start), adapt(end), adapt(as_of)]
    _run(f"CREATE TEMPORARY TABLE {TMP_MONTHS} AS {select}", params)
    _analyze(TMP_MONTHS)


def _rubles(kopecks: str) -> str:
    return f"({kopecks})::numeric / 100" if _pg() else f"({kopecks}) / 100.0"


def figures(currency: str, window: Window) -> None:
    """`TMP_FIG`: one row per live client with a purchase in `currency` before "as of", with
    the client's owner (grouped first, joined with the clients after: a million rows, not the
    purchases' months)."""
    first_month = _month("g.first_at")
    inside = f"m.flag = {INSIDE}"
    square = "m.cents::numeric * m.cents" if _pg() else "CAST(m.cents AS REAL) * m.cents"
    select = f"""
        SELECT g.*, c.owner_id AS owner_id, {first_month} AS first_month
        FROM (SELECT m.client_id AS client_id,
                     {_rubles(f"SUM(CASE WHEN {inside} THEN m.cents ELSE 0 END)")} AS rev,
                     SUM(CASE WHEN {inside} THEN {square} ELSE 0 END) / 10000.0 AS squares,
                     SUM(CASE WHEN {inside} THEN m.n ELSE 0 END) AS purchases,
                     MAX(CASE WHEN {inside} THEN m.last_at END) AS last_at,
                     MIN(m.first_at) AS first_at,
                     MAX(m.last_at) AS last_ever, SUM(m.n) AS purchases_ever
              FROM {TMP_MONTHS} m WHERE m.currency = %s GROUP BY m.client_id) g
        JOIN {Client._meta.db_table} c ON c.id = g.client_id
        WHERE c.deleted_at IS NULL
    """  # noqa: S608  # nosec B608
    _run(f"CREATE TEMPORARY TABLE {TMP_FIG} AS {select}", [*_zone_param(window), currency])
    _analyze(TMP_FIG)
    if not _pg():  # SQLite joins by lookups: without an index, one scan per client
        _run(f"CREATE UNIQUE INDEX {TMP_FIG}_client ON {TMP_FIG} (client_id)")


BUYER_COLUMNS = 6


def buyers(window: Window) -> npt.NDArray[np.float64]:
    """(client, kopecks, squares, purchases, recency days, first month) of every client who
    bought in the window, by client id, as a 6-column array of doubles (exact: every whole
    number here is far below 2**53): what the classes are computed from."""
    _start, end = window.bounds()
    if _pg():
        # COPY's text parsed by numpy: several times faster than a million rows of objects.
        recency = f"FLOOR(EXTRACT(EPOCH FROM ('{end.isoformat()}'::timestamptz - last_at)) / 86400)"
        select = (
            f"SELECT client_id, (rev * 100)::bigint, squares::float8, purchases, "  # noqa: S608  # nosec B608
            f"{recency}::bigint, first_month FROM {TMP_FIG} WHERE purchases > 0 "
            f"ORDER BY client_id"
        )
        connection.ensure_connection()
        with connection.connection.cursor() as raw, raw.copy(f"COPY ({select}) TO STDOUT") as copy:
            text = b"".join(bytes(chunk) for chunk in copy)
        return np.fromstring(text, sep=" ").reshape(-1, BUYER_COLUMNS)
    # Whole seconds, less one when the time has a fraction (it is stored without one
    # otherwise): ⌊(end − t) / day⌋ exactly, as Python's timedelta.days gives it.
    recency = "(%s - CAST(strftime('%%s', last_at) AS INTEGER) - (length(last_at) > 19)) / 86400"
    rows = _fetch(
        f"SELECT client_id, CAST(ROUND(rev * 100) AS INTEGER), squares, purchases, {recency}, "  # noqa: S608  # nosec B608
        f"first_month FROM {TMP_FIG} WHERE purchases > 0 ORDER BY client_id",
        [int(end.timestamp())],
    )
    return np.array(rows, dtype=np.float64).reshape(-1, BUYER_COLUMNS)


def write_new(rows: Iterable[tuple[Any, ...]]) -> None:
    """`TMP_NEW`: the ABC, XYZ and RFM classes the caller computed, (client, abc, xyz, rfm, cv
    or None, periods)."""
    key = "bigint PRIMARY KEY" if _pg() else "integer PRIMARY KEY"
    real = "double precision" if _pg() else "real"
    _run(
        f"CREATE TEMPORARY TABLE {TMP_NEW} (client_id {key}, abc varchar(1), xyz varchar(1), "
        f"rfm varchar(3), cv {real}, periods integer)"
    )
    if not _pg():
        write_rows(TMP_NEW, NEW_COLUMNS, list(rows))
        return
    # One COPY buffer rather than a call per row; repr() of a float reads back exactly.
    null = "\\N"
    text = "".join(
        f"{pk}\t{abc}\t{xyz}\t{rfm}\t{null if cv is None else repr(cv)}\t{periods}\n"
        for pk, abc, xyz, rfm, cv, periods in rows
    )
    connection.ensure_connection()
    names = ", ".join(NEW_COLUMNS)
    with (
        connection.connection.cursor() as raw,
        raw.copy(f"COPY {TMP_NEW} ({names}) FROM STDIN") as copy,
    ):
        copy.write(text)


def _cycle(rule: CycleRule) -> str:
    """The contact-cycle stage in SQL: `cycle.stage`, with the day counts as cut-off times."""
    return f"""CASE
        WHEN COALESCE(f.purchases_ever, 0) = 0 OR f.last_ever IS NULL THEN
            CASE WHEN c.last_contact_at > %s OR c.stage = 'prospect'
                 THEN 'prospect' ELSE 'lead' END
        WHEN f.last_ever <= %s THEN 'lost'
        WHEN f.last_ever <= %s THEN 'at_risk'
        WHEN old.cycle = 'lost'
             OR (old.cycle = 'won_back' AND f.purchases_ever < {int(rule.loyal_purchases)})
             THEN 'won_back'
        WHEN f.purchases_ever >= {int(rule.loyal_purchases)} THEN 'loyal'
        WHEN f.purchases_ever >= {int(rule.repeat_purchases)} THEN 'repeat'
        ELSE 'first_order' END"""


def final(rule: CycleRule, now: dt.datetime) -> None:
    """`TMP_FINAL`: every live client's new row of the class table, next to their current one."""
    adapt = connection.ops.adapt_datetimefield_value

    def cut(days: int) -> Any:
        return adapt(now - dt.timedelta(days=days + 1))

    revenue = "ROUND(f.rev, 2)"
    # SQLite would walk a partial index in creation order and look every client up at random;
    # in id order the lookups in the three joined tables run along their keys.
    in_id_order = "" if _pg() else "NOT INDEXED"
    select = f"""
        SELECT c.id AS client_id, c.owner_id AS owner_id,
               COALESCE(n.abc, '') AS abc, COALESCE(n.xyz, '') AS xyz,
               COALESCE(n.rfm, '') AS rfm, {_cycle(rule)} AS cycle,
               COALESCE({revenue}, 0) AS revenue, COALESCE(f.purchases, 0) AS purchases,
               n.cv AS cv, COALESCE(n.periods, 0) AS periods,
               f.first_at AS first_purchase_at, f.last_at AS last_purchase_at,
               old.client_id IS NOT NULL AS had, old.abc AS old_abc, old.xyz AS old_xyz,
               old.rfm AS old_rfm, old.cycle AS old_cycle
        FROM {Client._meta.db_table} c {in_id_order}
        LEFT JOIN {TMP_FIG} f ON f.client_id = c.id
        LEFT JOIN {TMP_NEW} n ON n.client_id = c.id
        LEFT JOIN {ClientClass._meta.db_table} old ON old.client_id = c.id
        WHERE c.deleted_at IS NULL
    """  # noqa: S608  # nosec B608
    params = [cut(rule.prospect_days), cut(rule.lost_days), cut(rule.at_risk_days)]
    _run(f"CREATE TEMPORARY TABLE {TMP_FINAL} AS {select}", params)
    _analyze(TMP_FINAL)


def history(measures: Sequence[str], at: dt.datetime, first_run: bool) -> int:
    """A `ClassChange` row per changed class; on the first run only for clients that had a row
    (a client without one counts as classified "" from the second run on)."""
    adapt = connection.ops.adapt_datetimefield_value
    written = 0
    for measure in measures:
        old = f"COALESCE(old_{measure}, '')"
        written += _run(
            f"INSERT INTO {ClassChange._meta.db_table} (client_id, measure, old, new, at) "  # noqa: S608  # nosec B608
            f"SELECT client_id, %s, {old}, {measure}, %s FROM {TMP_FINAL} "
            f"WHERE (had OR %s) AND {old} <> {measure} ORDER BY client_id",
            [measure, adapt(at), not first_run],
        )
    return written


def store(columns: Sequence[str]) -> None:
    """Bring the class table in line with `TMP_FINAL`, touching only the rows that differ."""
    name = ClientClass._meta.db_table
    _run(f"DELETE FROM {name} WHERE client_id NOT IN (SELECT client_id FROM {TMP_FINAL})")  # noqa: S608  # nosec B608
    values = [c for c in columns if c != "client_id"]
    distinct = "IS DISTINCT FROM" if _pg() else "IS NOT"
    changed = " OR ".join(f"{name}.{c} {distinct} s.{c}" for c in values)
    assign = ", ".join(f"{c} = s.{c}" for c in values)
    _run(
        f"UPDATE {name} SET {assign} FROM {TMP_FINAL} s "  # noqa: S608  # nosec B608
        f"WHERE {name}.client_id = s.client_id AND s.had AND ({changed})"
    )
    listed = ", ".join(columns)
    insert = (
        f"INSERT INTO {name} ({listed}) SELECT {listed} FROM {TMP_FINAL} "  # noqa: S608  # nosec B608
        f"WHERE NOT had ORDER BY client_id"
    )
    new = _fetch(f"SELECT COUNT(*) FROM {TMP_FINAL} WHERE NOT had")[0][0]  # noqa: S608  # nosec B608
    if new < BULK_ROWS:
        _run(insert)
        return
    # Many new rows (the first run): the secondary indexes built once after, not row by row.
    with bulk_mode([name], rebuild_index=True):
        _run(insert)


def class_cells() -> list[tuple[Any, ...]]:
    """(owner, chart, key, clients, revenue) of the class charts: cycle, ABC·XYZ, R·F."""
    out: list[tuple[Any, ...]] = []
    for owner, stage, n, revenue in _fetch(
        f"SELECT owner_id, cycle, COUNT(*), SUM(revenue) FROM {TMP_FINAL} GROUP BY 1, 2"  # noqa: S608  # nosec B608
    ):
        out.append((owner, "cycle", stage, n, revenue))
    for owner, abc, xyz, n, revenue in _fetch(
        f"SELECT owner_id, abc, xyz, COUNT(*), SUM(revenue) FROM {TMP_FINAL} "  # noqa: S608  # nosec B608
        f"WHERE abc <> '' GROUP BY 1, 2, 3"
    ):
        out.append((owner, "abcxyz", f"{abc}{xyz or '-'}", n, revenue))
    for owner, rf, n, revenue in _fetch(
        f"SELECT owner_id, substr(rfm, 1, 2), COUNT(*), SUM(revenue) FROM {TMP_FINAL} "  # noqa: S608  # nosec B608
        f"WHERE rfm <> '' GROUP BY 1, 2"
    ):
        out.append((owner, "rfm", rf, n, revenue))
    return out


def leads(window: Window, now: dt.datetime) -> list[tuple[Any, ...]]:
    """(owner, month, clients) of the live clients created from the window's start to `now`."""
    start, _end = window.bounds()
    adapt = connection.ops.adapt_datetimefield_value
    month = _month("created_at")
    return _fetch(
        f"SELECT owner_id, {month}, COUNT(*) FROM {Client._meta.db_table} "  # noqa: S608  # nosec B608
        f"WHERE deleted_at IS NULL AND created_at >= %s AND created_at < %s GROUP BY 1, 2",
        [*_zone_param(window), adapt(start), adapt(now)],
    )


def cohorts(currency: str, window: Window) -> list[tuple[Any, ...]]:
    """(owner, first-purchase month, month, buyers, revenue, purchases) of the live clients'
    purchases from the window's start to "as of": `measures.cohorts` from the grouped table."""
    start, end = window.bounds()
    # A client has one row per month unless the window starts or ends inside a month (a month
    # split between "before", "inside" and "after"): only then count distinct clients.
    aligned = start.day == 1 and end.day == 1
    buyers = "COUNT(*)" if aligned else "COUNT(DISTINCT m.client_id)"
    return _fetch(
        f"SELECT f.owner_id, f.first_month, m.month, {buyers}, {_rubles('SUM(m.cents)')}, SUM(m.n) "  # noqa: S608  # nosec B608
        f"FROM {TMP_MONTHS} m JOIN {TMP_FIG} f ON f.client_id = m.client_id "
        f"WHERE m.currency = %s AND m.flag IN ({INSIDE}, {AFTER}) GROUP BY 1, 2, 3",
        [currency],
    )


def excluded(currency: str) -> list[tuple[Any, ...]]:
    """(currency, purchases, amount) in the window in the other currencies."""
    return _fetch(
        f"SELECT currency, SUM(n), {_rubles('SUM(cents)')} FROM {TMP_MONTHS} "  # noqa: S608  # nosec B608
        f"WHERE currency <> %s AND flag = {INSIDE} GROUP BY currency ORDER BY currency",
        [currency],
    )
