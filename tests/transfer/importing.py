"""Running an import in a test the way the browser and the API do, without the worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kartoteka.transfer import importer, imports
from kartoteka.transfer.models import ImportJob


def import_file(
    user: Any,
    path: Path,
    entity: str = "persons",
    mapping: list[str] | dict[str, str] | None = None,
    *,
    on_duplicate: str = "skip",
    atomic: bool = True,
    dry_run: bool = False,
) -> ImportJob:
    with path.open("rb") as stream:
        job = imports.upload(user, entity, path.name, stream, path.stat().st_size)
    imports.configure(
        user,
        job,
        mapping if mapping is not None else job.mapping,
        on_duplicate=on_duplicate,
        atomic=atomic,
    )
    job.dry_run = dry_run
    importer.run_job(job)
    job.refresh_from_db()
    return job
