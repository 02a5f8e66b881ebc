"""Every write of the import workflow: upload, map, check, run, cancel, undo, templates.

The browser, the API and `kartoteka import` all go through these functions.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client
from kartoteka.clients.services import EmailIn, PhoneIn, touch_last_contact, update_client
from kartoteka.core import audit, permissions
from kartoteka.core.permissions import Action, Denied
from kartoteka.transfer import importer, readers
from kartoteka.transfer.fields import CLIENT_KIND, fields_of, suggest
from kartoteka.transfer.models import Entity, ImportChange, ImportJob, ImportTemplate, OnDuplicate

MAX_UPLOAD = 512 * 1024 * 1024
RUNNING = (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)


def visible_jobs(user: User) -> QuerySet[ImportJob]:
    """A user's own imports; administrators see everyone's."""
    jobs = ImportJob.objects.select_related("user")
    return jobs if permissions.rights(user).is_admin else jobs.filter(user=user)


def visible_job(user: User, pk: int) -> ImportJob:
    """One of `visible_jobs`, or 404."""
    return get_object_or_404(visible_jobs(user), pk=pk)


def _may_import(user: User, entity: str) -> None:
    if entity not in Entity.values:
        raise ValidationError({"entity": [_("Choose what to import.")]})
    importer.check_rights(user, entity)


def upload(user: User, entity: str, name: str, stream: IO[bytes], size: int) -> ImportJob:
    """Store the file, read its header and suggest a mapping (a saved template wins)."""
    _may_import(user, entity)
    if size > MAX_UPLOAD:
        raise ValidationError({"file": [_("The file is larger than 512 MB.")]})
    job = ImportJob.objects.create(user=user, entity=entity, filename=name[:255], format="")
    path = importer.source_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as target:
        shutil.copyfileobj(stream, target, 1 << 20)
    try:
        table = readers.open_table(path, name)
        next(iter(table.rows))  # the reader says so if there are no rows
    except readers.FileProblem as exc:
        discard(job)
        raise ValidationError({"file": [exc.message]}) from None
    except StopIteration:
        discard(job)
        raise ValidationError({"file": [_("The file has a header but no rows.")]}) from None
    job.format, job.encoding = table.format, table.encoding or ""
    job.headers = [str(h)[:200] for h in table.headers]
    job.mapping = suggest(entity, job.headers, _template_for(user, entity, job.headers))
    job.save()
    return job


def discard(job: ImportJob) -> None:
    shutil.rmtree(importer.job_dir(job), ignore_errors=True)
    job.delete()


def _template_for(user: User, entity: str, headers: list[str]) -> dict[str, str] | None:
    """The user's template that knows most of these headers."""
    best, score = None, 0
    for template in ImportTemplate.objects.filter(user=user, entity=entity):
        known = sum(1 for h in headers if h in template.mapping)
        if known > score:
            best, score = template.mapping, known
    return best


def configure(
    user: User,
    job: ImportJob,
    mapping: list[str] | dict[str, str],
    *,
    on_duplicate: str = OnDuplicate.SKIP,
    atomic: bool = True,
) -> ImportJob:
    """Set the column mapping (a field per column, or header -> field) and the options."""
    _own(user, job)
    if job.status in RUNNING:
        raise ValidationError({"job": [_("The import is running.")]})
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.UNDONE):
        raise ValidationError({"job": [_("This file has been imported already.")]})
    if isinstance(mapping, dict):
        unknown = [h for h in mapping if h not in job.headers]
        if unknown:
            message = _("The file has no column %(header)s.") % {"header": str(unknown[0])[:60]}
            raise ValidationError({"mapping": [message]})
        mapping = [mapping.get(h, "") for h in job.headers]
    keys = {f.key: f for f in fields_of(job.entity)}
    errors: dict[str, list[str]] = {}
    if len(mapping) != len(job.headers):
        errors["mapping"] = [_("Give a field for each column (or leave it empty).")]
    for index, key in enumerate(mapping):
        if key and key not in keys:
            errors[f"mapping.{index}"] = [_("There is no field %(key)s.") % {"key": key[:60]}]
    single = [k for k in mapping if k in keys and not keys[k].multi]
    if len(single) != len(set(single)):
        errors["mapping"] = [_("A field other than phones, e-mails and tags fits one column.")]
    if not any(mapping) and "mapping" not in errors:
        errors["mapping"] = [_("Choose the field of at least one column.")]
    if on_duplicate not in OnDuplicate.values:
        errors["on_duplicate"] = [_("Choose skip, update or create.")]
    elif on_duplicate == OnDuplicate.UPDATE and job.entity not in CLIENT_KIND:
        errors["on_duplicate"] = [_("Only persons and companies can be updated by an import.")]
    if errors:
        raise ValidationError(errors)
    job.mapping, job.on_duplicate, job.atomic = list(mapping), on_duplicate, atomic
    job.save(update_fields=["mapping", "on_duplicate", "atomic"])
    return job


def _own(user: User, job: ImportJob) -> None:
    if job.user_id != user.pk:
        raise Denied(Action.CREATE)


def start(user: User, job: ImportJob, *, dry_run: bool) -> ImportJob:
    """Queue the run (or the dry run) in the background."""
    from kartoteka.transfer.tasks import run_import

    _own(user, job)
    if job.status in RUNNING and not importer.progress(job)["stale"]:
        raise ValidationError({"job": [_("The import is running.")]})
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.UNDONE):
        raise ValidationError({"job": [_("This file has been imported already.")]})
    if not any(job.mapping):
        raise ValidationError({"mapping": [_("Choose the field of at least one column.")]})
    job.dry_run, job.status = dry_run, ImportJob.Status.QUEUED
    job.save(update_fields=["dry_run", "status"])
    (importer.job_dir(job) / "progress.json").unlink(missing_ok=True)
    transaction.on_commit(lambda: run_import.enqueue(job.pk))
    return job


def cancel(user: User, job: ImportJob) -> None:
    _own(user, job)
    if job.status not in RUNNING:
        raise ValidationError({"job": [_("The import is not running.")]})
    importer.request_cancel(job)
    if job.status == ImportJob.Status.QUEUED or importer.progress(job)["stale"]:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CANCELLED)


def save_template(user: User, job: ImportJob, name: str) -> ImportTemplate:
    name = " ".join(name.split())[:100]
    if not name:
        raise ValidationError({"template": [_("Name the template.")]})
    mapping = {h: k for h, k in zip(job.headers, job.mapping, strict=False) if k}
    template, _created = ImportTemplate.objects.update_or_create(
        user=user, entity=job.entity, name=name, defaults={"mapping": mapping}
    )
    return template


def changed_clients(user: User, job: ImportJob, limit: int = 50) -> list[Client]:
    """The first clients the import updated that `user` may see, for the import's log."""
    ids = ImportChange.objects.filter(job=job).values("client")
    visible = permissions.scope(user, Action.VIEW, Client.all_objects.filter(pk__in=ids))
    return list(visible.only("pk", "name").order_by("pk")[:limit])


def rejected_rows(job: ImportJob) -> tuple[list[str], Iterator[list[Any]]]:
    """The rejected rows as they were in the file, with a column saying why."""
    header = [_("Row"), *job.headers, _("Why it was rejected")]

    def produce() -> Iterator[list[Any]]:
        path = importer.rejected_path(job)
        if not path.exists():
            return
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                entry = json.loads(line)
                cells = entry["cells"] + [""] * (len(job.headers) - len(entry["cells"]))
                why = "; ".join(f"{f}: {m}" if f else m for f, m in entry["errors"])
                yield [entry["row"], *cells[: len(job.headers)], why]

    return header, produce()


# --- undo -------------------------------------------------------------------------------------


def undo(user: User, job: ImportJob) -> dict[str, int]:
    """Put back the state before the import: what it created goes, what it changed is restored.

    A record it changed that someone has changed again since is left as it is (counted as kept).
    """
    _own(user, job)
    if job.status != ImportJob.Status.DONE:
        raise ValidationError({"job": [_("Only a finished import can be undone.")]})
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportJob.Status.DONE:
            raise ValidationError({"job": [_("Only a finished import can be undone.")]})
        result = {"deleted": 0, "trashed": 0, "restored": 0, "kept": 0}
        _undo_interactions(job, result)
        _undo_changes(user, job, result)
        _undo_clients(job, result)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.UNDONE, undone_at=timezone.now()
        )
        audit.record(user, "import_undo", kind="client", target_id=job.pk, **result)
    return result


def _undo_interactions(job: ImportJob, result: dict[str, int]) -> None:
    for first, last in job.created_interactions:
        rows = Interaction.all_objects.filter(pk__gte=first, pk__lte=last)
        touched = set(rows.values_list("client", flat=True))
        result["deleted"] += rows.delete()[0]
        for client_id in touched:
            touch_last_contact(client_id)


def _undo_changes(user: User, job: ImportJob, result: dict[str, int]) -> None:
    changes = list(ImportChange.objects.filter(job=job).select_related("client"))
    owners = User.objects.in_bulk({c.before["owner"] for c in changes if c.before.get("owner")})
    for change in changes:
        client = change.client
        if client is None or client.version != change.version:
            result["kept"] += 1
            continue
        before = dict(change.before)
        phones = [PhoneIn(raw, kind) for raw, kind in before.pop("phones")]
        emails = [EmailIn(email, kind) for email, kind in before.pop("emails")]
        tags, custom = before.pop("tags"), before.pop("custom")
        owner = before.pop("owner")
        before["owner"] = owners.get(owner) if owner else None
        for name in ("birthday", "company_day"):
            if before.get(name):
                before[name] = dt.date.fromisoformat(before[name])
        update_client(
            user,
            client,
            client.version,
            before,
            phones=phones,
            emails=emails,
            tags=tags,
            custom=custom,
        )
        result["restored"] += 1


def _undo_clients(job: ImportJob, result: dict[str, int]) -> None:
    """Delete the clients the import created; those changed since go to the trash instead,
    so that nothing anyone entered after the import is lost."""
    for first, last in job.created_clients:
        for start in range(first, last + 1, 5000):
            batch = Client.all_objects.filter(pk__gte=start, pk__lte=min(start + 4999, last))
            result["trashed"] += batch.filter(version__gt=1, deleted_at__isnull=True).update(
                deleted_at=timezone.now()
            )
            result["deleted"] += batch.filter(version=1).delete()[1].get("clients.Client", 0)
