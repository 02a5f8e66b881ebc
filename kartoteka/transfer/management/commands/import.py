"""`kartoteka import PATH --entity persons|companies|interactions|purchases …`: run an import now.

Prints {"created", "updated", "skipped", "rejected": [{"row", "field", "message"}]} with --json.
The import runs in this process, as the given user, within that user's rights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kartoteka.accounts.models import User
from kartoteka.transfer import importer, imports
from kartoteka.transfer.models import Entity, ImportJob, OnDuplicate
from kartoteka.transfer.outcome import Outcome


class Command(BaseCommand):
    help = "Import persons, companies, interactions or purchases from CSV, XLSX, XLS, ODS, vCard."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--entity", required=True, choices=Entity.values)
        parser.add_argument(
            "--mapping", default="auto", help='"auto" or a JSON file: {header: field} or a list'
        )
        parser.add_argument("--on-duplicate", default="skip", choices=OnDuplicate.values)
        parser.add_argument("--partial", action="store_true", help="import the valid rows only")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--user", help="import as this user (default: the first admin)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        user = _user(options["user"])
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            with path.open("rb") as stream:
                job = imports.upload(
                    user, options["entity"], path.name, stream, path.stat().st_size
                )
            imports.configure(
                user,
                job,
                _mapping(options["mapping"], job),
                on_duplicate=options["on_duplicate"],
                atomic=not options["partial"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        job.dry_run = options["dry_run"]
        importer.run_job(job)
        job.refresh_from_db()
        self._report(job, options["json"])
        if job.status not in (ImportJob.Status.DONE, ImportJob.Status.CHECKED):
            raise CommandError(job.error or job.get_status_display())

    def _report(self, job: ImportJob, as_json: bool) -> None:
        outcome = Outcome(
            created=job.created, updated=job.updated, skipped=job.skipped, problems=job.problems
        )
        summary = outcome.as_json()
        if as_json:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        self.stdout.write(
            f"import {job.pk}: {job.get_status_display()}; created {job.created}, "
            f"updated {job.updated}, skipped {job.skipped}, rejected {job.rejected}"
        )
        for problem in summary["rejected"]:
            self.stdout.write(f"  row {problem['row']}: {problem['field']}: {problem['message']}")


def _user(username: str | None) -> User:
    users = User.objects.filter(is_active=True)
    found = (
        users.filter(username=username).first()
        if username
        else users.filter(is_superuser=True).order_by("pk").first()
    )
    if found is None:
        raise CommandError(f"no active user {username or '(administrator)'}")
    return found


def _mapping(option: str, job: ImportJob) -> list[str] | dict[str, str]:
    if option == "auto":
        return job.mapping
    try:
        value = json.loads(Path(option).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"--mapping {option}: {exc}") from None
    if not isinstance(value, list | dict):
        raise CommandError("--mapping: expected a JSON list or object")
    return value
