"""One import measurement in its own process: `python -m bench.import_worker import|raw CSV`.

Prints one JSON line: rows, seconds, created, skipped, rejected, peak_mb.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import django


def _setup() -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    django.setup()
    from django.core.management import call_command

    from kartoteka.accounts.models import User

    call_command("migrate", verbosity=0)
    return User.objects.create_superuser("bench-admin", "bench@example.com", None)


def run_import(path: Path, admin: Any) -> dict[str, Any]:
    from kartoteka.transfer import importer, imports

    with path.open("rb") as stream:
        job = imports.upload(admin, "persons", path.name, stream, path.stat().st_size)
    imports.configure(admin, job, job.mapping, on_duplicate="skip", atomic=False)
    started = time.perf_counter()
    importer.run_job(job)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    assert job.status == "done", (job.status, job.error)
    return {
        "rows": job.rows,
        "seconds": seconds,
        "created": job.created,
        "skipped": job.skipped,
        "rejected": job.rejected,
        "mapping": job.mapping,
    }


def run_raw(path: Path) -> dict[str, Any]:
    """The same file straight into the same tables: no parsing, validation or matching."""
    from django.db import transaction
    from django.utils import timezone

    from kartoteka.clients.bulk import bulk_mode, is_postgres, table, write_rows
    from kartoteka.clients.demo_words import CLIENT_COLS
    from kartoteka.clients.models import Client, ClientEvent, Email, Employment, Phone
    from kartoteka.transfer.importer import LOOKUP_INDEXES

    now: Any = timezone.now()
    if not is_postgres():
        now = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    columns = " ".join(CLIENT_COLS)
    tables = [table(m) for m in (Client, Phone, Email, Employment, ClientEvent)]
    started = time.perf_counter()
    count = 0
    atomic = transaction.atomic()
    with (
        atomic,
        bulk_mode(tables, True, keep=LOOKUP_INDEXES),
        path.open(encoding="utf-8-sig", newline="") as stream,
    ):
        reader = csv.reader(stream, delimiter=";")
        next(reader)
        clients, phones, emails = [], [], []
        for count, row in enumerate(reader, start=1):
            last, first, middle, phone, mobile, email, inn = row[:7]
            name = f"{last} {first} {middle}"
            # fmt: off
            clients.append((count, now, now, None, 1, "person", name, last, first, middle, "",
                            "", inn, "", "", None, None, "", "", "", None, "", "lead", "", "",
                            "{}", phone[:16], email, 0, None, name, None))
            # fmt: on
            phones.append((count, "mobile", phone, phone[:16], 0))
            if mobile:
                phones.append((count, "mobile", mobile, mobile[:16], 1))
            if email:
                emails.append((count, "work", email, 0))
            if len(clients) == 2000:
                _flush(write_rows, table, Client, Phone, Email, columns, clients, phones, emails)
                clients, phones, emails = [], [], []
        _flush(write_rows, table, Client, Phone, Email, columns, clients, phones, emails)
    return {
        "rows": count,
        "seconds": time.perf_counter() - started,
        "created": count,
        "skipped": 0,
        "rejected": 0,
    }


def _flush(
    write_rows: Any,
    table: Any,
    client: Any,
    phone: Any,
    email: Any,
    columns: str,
    clients: list[Any],
    phones: list[Any],
    emails: list[Any],
) -> None:
    write_rows(table(client), columns.split(), clients)
    write_rows(table(phone), ("client_id", "kind", "raw", "e164", "position"), phones)
    write_rows(table(email), ("client_id", "kind", "email", "position"), emails)


def main() -> None:
    mode, path = sys.argv[1], Path(sys.argv[2])
    admin = _setup()
    result = run_import(path, admin) if mode == "import" else run_raw(path)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
