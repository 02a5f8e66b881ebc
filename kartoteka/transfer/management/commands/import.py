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
from kartoteka.core.permissions import Denied
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
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check only; exits non-zero when the import would be refused",
        )
        parser.add_argument("--user", help="import as this user (default: the first admin)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        user = _user(options["user"])
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        chosen = _read_mapping(options["mapping"])  # before anything is stored
        job = None
        try:
            with path.open("rb") as stream:
                job = imports.upload(
                    user, options["entity"], path.name, stream, path.stat().st_size
                )
            mapping = job.mapping if chosen is None else chosen
            _known_headers(job, mapping)
            imports.configure(
                user,
                job,
                mapping,
                on_duplicate=options["on_duplicate"],
                atomic=not options["partial"],
            )
        except (ValidationError, Denied) as exc:
            if job is not None:
                imports.discard(job)  # a refused import leaves no job behind
            if isinstance(exc, Denied):
                entity = options["entity"]
                raise CommandError(f"{user.username}'s role may not create {entity}") from None
            raise CommandError("; ".join(_messages(exc))) from None
        job.dry_run = options["dry_run"]
        job.save(update_fields=["dry_run"])
        importer.run_job(job)
        job.refresh_from_db()
        self._report(job, options["json"])
        if job.status not in (ImportJob.Status.DONE, ImportJob.Status.CHECKED):
            raise CommandError(job.error or job.get_status_display())
        if job.status == ImportJob.Status.CHECKED and job.atomic and job.rejected:
            raise CommandError(f"the import would be refused: {job.rejected} rows have errors")

    def _report(self, job: ImportJob, as_json: bool) -> None:
        written = job.status in (ImportJob.Status.DONE, ImportJob.Status.CHECKED)
        rejected = _rejected(job)
        summary: dict[str, Any] = {
            # What was written (a dry run: what would be); nothing when the import was refused.
            "created": job.created if written else 0,
            "updated": job.updated if written else 0,
            "skipped": job.skipped,
            "rejected": rejected,
        }
        if as_json:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        self.stdout.write(
            f"import {job.pk}: {job.get_status_display()}; created {summary['created']}, "
            f"updated {summary['updated']}, skipped {job.skipped}, rejected {job.rejected}"
        )
        for problem in rejected:
            self.stdout.write(f"  row {problem['row']}: {problem['field']}: {problem['message']}")


def _rejected(job: ImportJob) -> list[dict[str, Any]]:
    """Every rejected row's problems, from the rejected-rows file (the job keeps the first 1000)."""
    path = importer.rejected_path(job)
    if not path.exists():
        return Outcome(problems=job.problems).as_json()["rejected"]
    found = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            entry = json.loads(line)
            found += [{"row": entry["row"], "field": f, "message": m} for f, m in entry["errors"]]
    return found


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{key}: {' '.join(m)}" for key, m in exc.message_dict.items()]
    return list(exc.messages)


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


def _read_mapping(option: str) -> list[str] | dict[str, str] | None:
    if option == "auto":
        return None
    try:
        value = json.loads(Path(option).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"--mapping {option}: {exc}") from None
    values = value.values() if isinstance(value, dict) else value
    if not isinstance(value, list | dict) or not all(isinstance(v, str) for v in values):
        raise CommandError("--mapping: expected a JSON list of fields or {header: field}")
    return value


def _known_headers(job: ImportJob, mapping: list[str] | dict[str, str]) -> None:
    """A misspelt header in a {header: field} mapping is an error, not a column left out."""
    if isinstance(mapping, dict):
        unknown = [h for h in mapping if h not in job.headers]
        if unknown:
            raise ValidationError({"mapping": [f"the file has no column {unknown[0]!r}"]})
