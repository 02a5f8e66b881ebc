"""Running an import: the whole file in one transaction, chunk by chunk, with live progress.

One transaction makes an import atomic whatever happens: a rejected row in an all-or-nothing
import, a dry run, a cancel or a killed process all leave the database as it was. Progress and
the cancel request travel through small files beside the upload, because the job's own row
cannot change visibly until the transaction ends (and SQLite has a single writer).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients.bulk import analyze, bulk_mode, table
from kartoteka.clients.models import Client, ClientEvent, Email, Employment, Phone
from kartoteka.core import audit, permissions
from kartoteka.core.permissions import Action, Denied, Scope
from kartoteka.dedup import keys as dedup_keys
from kartoteka.transfer import readers, rows
from kartoteka.transfer.fields import CLIENT_KIND
from kartoteka.transfer.load_clients import ClientLoader
from kartoteka.transfer.load_interactions import InteractionLoader
from kartoteka.transfer.models import ImportJob
from kartoteka.transfer.outcome import Outcome

CHUNK = 2000
# From this many rows on, an import into a table no bigger than itself drops the secondary
# indexes and builds them once at the end (the lookup indexes duplicates are matched on stay).
BULK_ROWS = 100_000
LOOKUP_INDEXES = ("client_inn", "clients_phone_e164", "clients_email_email", "client_external")
ANALYZE_FROM = 10_000  # created rows after which the planner's statistics are refreshed
GC_EVERY = 25  # chunks between collections while the collector is off
STALE_SECONDS = 120  # a running import whose progress is older than this was interrupted


logger = logging.getLogger(__name__)


class Cancelled(Exception):
    pass


def job_dir(job: ImportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / str(job.pk)


def source_path(job: ImportJob) -> Path:
    return job_dir(job) / "source"


def rejected_path(job: ImportJob) -> Path:
    return job_dir(job) / "rejected.jsonl"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, path)  # readers never see half a file


def progress(job: ImportJob) -> dict[str, Any]:
    """{"done", "total", "started", "at", "stale"} of a running import."""
    try:
        data = json.loads((job_dir(job) / "progress.json").read_text())
    except (OSError, ValueError):
        return {"done": 0, "total": job.rows or None, "stale": False}
    data["stale"] = time.time() - data.get("at", 0) > STALE_SECONDS
    done, total, spent = data.get("done", 0), data.get("total"), data["at"] - data["started"]
    if total is not None and done > total:
        data["total"] = total = None  # the estimate was short (cells with line breaks)
    data["left"] = round(spent * (total - done) / done) if total and done else None
    return data


def request_cancel(job: ImportJob) -> None:
    (job_dir(job) / "cancel").touch()


def _count_rows(path: Path, fmt: str) -> int | None:
    """Data rows, cheaply: newlines in a text file (an estimate when cells hold newlines)."""
    if fmt not in ("csv", "vcf"):
        return None
    # CR alone ends lines in files from old Excel for Mac.
    needles: tuple[bytes, ...] = (b"BEGIN:VCARD",) if fmt == "vcf" else (b"\n", b"\r")
    counts = dict.fromkeys(needles, 0)
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            block = block.upper() if fmt == "vcf" else block
            for needle in needles:
                counts[needle] += block.count(needle)
    count = max(counts.values())
    return max(count - 1, 1) if fmt == "csv" else max(count, 1)


def check_rights(actor: User | None, entity: str) -> None:
    """Denied unless `actor` may create the records of `entity`."""
    kind = "client" if entity in CLIENT_KIND else "interaction"
    if permissions.scope_of(actor, kind, Action.CREATE) is Scope.NONE:
        raise Denied(Action.CREATE)


class Run:
    """One pass over the file; `execute()` returns the outcome after commit or rollback."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.actor: User | None = job.user
        self.dir = job_dir(job)
        self.outcome = Outcome(on_reject=self._rejected)
        self._rejected_file = rejected_path(job).open("w", encoding="utf-8")
        self.started = time.time()

    def _rejected(self, row: int, cells: list[Any], errors: list[tuple[str, str]]) -> None:
        cells = [c if isinstance(c, str | int | float | None) else str(c) for c in cells]
        line = {"row": row, "cells": cells, "errors": errors}
        self._rejected_file.write(json.dumps(line, ensure_ascii=False) + "\n")

    def _report(self, total: int | None) -> None:
        if (self.dir / "cancel").exists():
            raise Cancelled
        data = {"done": self.outcome.rows, "total": total, "started": self.started}
        _write_json(self.dir / "progress.json", {**data, "at": time.time()})

    def execute(self) -> Outcome:
        try:
            table_ = readers.open_table(source_path(self.job), self.job.filename)
            total = _count_rows(source_path(self.job), table_.format)
            check_rights(self.actor, self.job.entity)
            with transaction.atomic():
                self._load(table_, total)
                keep = not self.job.dry_run and not (self.job.atomic and self.outcome.rejected)
                if keep:
                    self._finish()
                else:
                    transaction.set_rollback(True)
        finally:
            self._rejected_file.close()
        return self.outcome

    def _load(self, table_: readers.Table, total: int | None) -> None:
        ctx = rows.Context(self.job.entity, self.actor)
        loader: ClientLoader | InteractionLoader
        if self.job.entity in CLIENT_KIND:
            loader = ClientLoader(self.job, self.outcome, self.actor)
            tables = [table(m) for m in (Client, Phone, Email, Employment, ClientEvent)]
        else:
            loader = InteractionLoader(self.job, self.outcome, self.actor)
            tables = []
        big = (total or 0) >= BULK_ROWS and Client.all_objects.count() <= (total or 0)
        pairs = [(i, key) for i, key in enumerate(self.job.mapping) if key]
        width = len(self.job.headers)
        self._report(total)
        parse = rows.client_record if self.job.entity in CLIENT_KIND else rows.interaction_record
        parsed = map(partial(parse_chunk, parse, pairs, width, ctx), _chunks(table_.rows, CHUNK))
        gc.disable()  # millions of short-lived tuples: the cycle collector would only slow it
        try:
            with bulk_mode(tables, big and bool(tables), keep=LOOKUP_INDEXES):
                for number, (count, records, rejects) in enumerate(parsed, start=1):
                    self.outcome.rows += count
                    for row, cells, errors in rejects:
                        self.outcome.reject(row, cells, errors)
                    loader.load(records)
                    self._report(total)
                    if number % GC_EVERY == 0:
                        gc.collect()
                    looks_up = isinstance(loader, ClientLoader) and not loader.fresh
                    if looks_up and number & (number - 1) == 0:
                        # Chunks 1, 2, 4, 8, …: the duplicate lookups are planned on fresh
                        # statistics (stale ones made PostgreSQL hash-join the whole table).
                        analyze(tables)
        finally:
            gc.enable()
        if isinstance(loader, InteractionLoader):
            loader.finish()
        elif self.outcome.created >= ANALYZE_FROM:
            analyze(tables)  # searches right after a big import must not be planned on old figures
            dedup_keys.analyze()  # and neither must the duplicate check

    def _finish(self) -> None:
        ImportJob.objects.filter(pk=self.job.pk).update(
            created_clients=self.outcome.created_clients,
            created_interactions=self.outcome.created_interactions,
        )
        audit.record(
            self.actor,
            "import",
            kind="client",
            target_id=self.job.pk,
            created=self.outcome.created,
            updated=self.outcome.updated,
            file=self.job.filename,
        )


Parsed = tuple[int, list[Any], list[tuple[int, list[Any], "rows.Errors"]]]


def parse_chunk(
    parse: Callable[..., Any],
    pairs: list[tuple[int, str]],
    width: int,
    ctx: rows.Context,
    chunk: list[tuple[int, list[Any]]],
) -> Parsed:
    """(rows read, records ready to store, rejected rows with their problems)."""
    records, rejects = [], []
    for number, cells in chunk:
        errors: rows.Errors = []
        if len(cells) > width and any(_filled(c) for c in cells[width:]):
            message = _("The row has %(n)d cells; the header has %(m)d.")
            errors.append(("", message % {"n": len(cells), "m": width}))
        values: dict[str, list[Any]] = {}
        for index, key in pairs:
            if index < len(cells) and _filled(cells[index]):
                values.setdefault(key, []).append(cells[index])
        record = parse(number, values, ctx, errors)
        if errors:
            rejects.append((number, cells, errors))
            continue
        record.cells = cells
        records.append(record)
    return len(chunk), records, rejects


def _filled(cell: Any) -> bool:
    return cell is not None and (cell.__class__ is not str or bool(cell.strip()))


def _chunks(source: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(source, size)):
        yield chunk


def run_job(job: ImportJob) -> ImportJob:
    """Run the import (or its dry run) and store what came of it on the job."""
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, error="")
    (job_dir(job) / "cancel").unlink(missing_ok=True)
    status, error, outcome = ImportJob.Status.DONE, "", None
    try:
        outcome = Run(job).execute()
    except Cancelled:
        status = ImportJob.Status.CANCELLED
    except readers.FileProblem as exc:
        status, error = ImportJob.Status.FAILED, exc.message
    except Denied:
        status, error = ImportJob.Status.FAILED, _("Your role may not create these records.")
    except Exception as exc:  # the transaction is rolled back; the job must not stay "running"
        logger.exception("import %s failed", job.pk)
        status = ImportJob.Status.FAILED
        error = _("The import failed and nothing was written: %(error)s") % {"error": exc}
    if outcome is not None:
        if job.dry_run:
            status = ImportJob.Status.CHECKED
        elif job.atomic and outcome.rejected:
            status = ImportJob.Status.REJECTED
    _store(job, status, error, outcome)
    return job


def _store(job: ImportJob, status: str, error: str, outcome: Outcome | None) -> None:
    """The final state; counts of what was written (a dry run's: of what would be)."""
    job.status, job.error, job.finished_at = status, error, timezone.now()
    fields = ["status", "error", "finished_at"]
    if outcome is not None:
        counted = status in (ImportJob.Status.DONE, ImportJob.Status.CHECKED)
        job.rows, job.rejected, job.skipped = outcome.rows, outcome.rejected, outcome.skipped
        job.created = outcome.created if counted else 0
        job.updated = outcome.updated if counted else 0
        job.problems, job.sample = outcome.problems, outcome.sample
        fields += ["rows", "rejected", "skipped", "created", "updated", "problems", "sample"]
    job.save(update_fields=fields)
