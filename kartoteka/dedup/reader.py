"""Reading clients for the engine: only the needed columns, raw SQL, in chunks of ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection

from kartoteka.dedup import batch, engine

CHUNK = 50_000
_COLUMNS = (
    "id, kind, last_name, first_name, middle_name, company_name, legal_form, inn, kpp, "
    "birthday, address, passport"
)
_LIVE = "deleted_at IS NULL"


def _contacts(
    cursor: Any, table: str, column: str, where: str, params: list[Any]
) -> dict[int, list[str]]:
    cursor.execute(f"SELECT client_id, {column} FROM {table} WHERE {where}", params)  # noqa: S608  # nosec B608
    found: dict[int, list[str]] = defaultdict(list)
    for client_id, value in cursor.fetchall():
        found[client_id].append(value)
    return found


def _records(
    cursor: Any, rows: list[tuple[Any, ...]], where: str, params: list[Any]
) -> list[engine.Record]:
    phones = _contacts(cursor, "clients_phone", "e164", where, params)
    emails = _contacts(cursor, "clients_email", "email", where, params)
    out = []
    for pk, kind, last, first, middle, company, form, inn, kpp, birthday, address, passport in rows:
        out.append(
            engine.Record(
                id=pk,
                kind=kind,
                last_name=last,
                first_name=first,
                middle_name=middle,
                company_name=company,
                legal_form=form,
                inn=inn,
                kpp=kpp,
                birthday=str(birthday) if birthday else "",
                address=address,
                passport=passport,
                phones=phones.get(pk, ()),
                emails=emails.get(pk, ()),
            )
        )
    return out


def live_table(chunk: int = CHUNK) -> batch.Raw:
    """Every live client as columns, in id order, read a chunk of ids at a time."""
    raw = batch.Raw()
    last = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM clients_client WHERE {_LIVE} AND id > %s "  # noqa: S608  # nosec B608
                "ORDER BY id LIMIT %s",
                [last, chunk],
            )
            rows = cursor.fetchall()
            if not rows:
                return raw
            raw.add_rows(rows)
            top = rows[-1][0]
            for table, column, owners, values in (
                ("clients_phone", "e164", raw.phone_client, raw.phone),
                ("clients_email", "email", raw.email_client, raw.email),
            ):
                cursor.execute(
                    f"SELECT client_id, {column} FROM {table} "  # noqa: S608  # nosec B608
                    "WHERE client_id > %s AND client_id <= %s",
                    [last, top],
                )
                found = cursor.fetchall()
                if found:
                    who, what = zip(*found, strict=True)
                    owners.extend(who)
                    values.extend(what)
            last = top


def records_for(ids: Iterable[int]) -> list[engine.Record]:
    """The live clients among `ids` (a few dozen: the single-record check's candidates)."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    marks = ", ".join(["%s"] * len(wanted))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS} FROM clients_client WHERE {_LIVE} AND id IN ({marks})",  # noqa: S608  # nosec B608
            wanted,
        )
        rows = cursor.fetchall()
        return _records(cursor, rows, f"client_id IN ({marks})", wanted)
