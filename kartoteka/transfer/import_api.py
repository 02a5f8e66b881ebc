"""Imports through the API: upload a file, let it run (or check it), follow it, undo it."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from pydantic import ConfigDict

from kartoteka.core.permissions import Denied
from kartoteka.core.views import actor
from kartoteka.transfer import importer, imports
from kartoteka.transfer.fields import fields_of
from kartoteka.transfer.models import Entity, ImportJob
from kartoteka.transfer.writers import file_response

router = Router(tags=["imports"])
ENTITY = "^(persons|companies|interactions|purchases)$"
POLICY = "^(skip|update|create)$"


class Problem(Schema):
    row: int
    field: str
    message: str
    skipped: bool = False


class ImportOut(Schema):
    id: int
    entity: str
    filename: str
    format: str
    status: str
    headers: list[str]
    mapping: list[str] = Field(description="The field of each column; empty: not imported.")
    on_duplicate: str
    atomic: bool
    dry_run: bool
    rows: int
    created: int
    updated: int
    skipped: int
    rejected: int
    progress: dict[str, Any] | None = Field(
        None, description="While it runs: rows done, total, seconds left."
    )
    problems: list[Problem]
    sample: list[dict[str, Any]]
    error: str


class RunIn(Schema):
    model_config = ConfigDict(extra="forbid")

    mapping: list[str] | dict[str, str] | None = Field(
        None, description="A field per column, or {header: field}; omitted: as suggested."
    )
    on_duplicate: str = Field("skip", pattern=POLICY)
    atomic: bool = Field(True, description="All or nothing; false imports the valid rows.")
    dry_run: bool = False


class FieldOut(Schema):
    key: str
    label: str
    multi: bool


def _out(job: ImportJob) -> dict[str, Any]:
    data = {name: getattr(job, name) for name in ImportOut.model_fields if hasattr(job, name)}
    data["progress"] = importer.progress(job) if job.status in imports.RUNNING else None
    return data


def _job(request: HttpRequest, pk: int) -> ImportJob:
    return imports.visible_job(actor(request), pk)


def _mapping(text: str) -> list[str] | dict[str, str] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list | dict) or not all(
        isinstance(v, str) for v in (value.values() if isinstance(value, dict) else value)
    ):
        raise ValidationError({"mapping": [_("Send a JSON list or object of field names.")]})
    return value


class UploadIn(Schema):
    entity: str = Field(pattern=ENTITY)
    mapping: str = Field("", max_length=20000, description="JSON: a list or {header: field}")
    on_duplicate: str = Field("skip", pattern=POLICY)
    atomic: bool = True
    dry_run: bool = False
    start: bool = Field(True, description="False: only read the header and suggest a mapping")


@router.post("", response={201: ImportOut}, summary="Upload a file and start its import")
def create(
    request: HttpRequest, file: File[UploadedFile], payload: Form[UploadIn]
) -> tuple[int, dict[str, Any]]:
    me = actor(request)
    chosen = _mapping(payload.mapping)  # checked before anything is stored
    job = imports.upload(me, payload.entity, file.name or "upload", file, file.size or 0)
    if chosen is not None or payload.start:
        try:
            with transaction.atomic():
                imports.configure(
                    me,
                    job,
                    job.mapping if chosen is None else chosen,
                    on_duplicate=payload.on_duplicate,
                    atomic=payload.atomic,
                )
                if payload.start:
                    imports.start(me, job, dry_run=payload.dry_run)
        except (ValidationError, Denied):
            imports.discard(job)  # a refused upload leaves no job behind
            raise
    job.refresh_from_db()
    return 201, _out(job)


@router.get("/fields/{entity}", response=list[FieldOut], summary="The fields a column can fill")
def fields(request: HttpRequest, entity: str) -> list[dict[str, Any]]:
    if entity not in Entity.values:
        raise Http404
    return [{"key": f.key, "label": str(f.label), "multi": f.multi} for f in fields_of(entity)]


@router.get("/{pk}", response=ImportOut, summary="An import's status, counts and problems")
def read(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _out(_job(request, pk))


@router.post("/{pk}/run", response=ImportOut, summary="Set the mapping and run (or check) again")
def run(request: HttpRequest, pk: int, payload: RunIn) -> dict[str, Any]:
    me, job = actor(request), _job(request, pk)
    mapping = job.mapping if payload.mapping is None else payload.mapping
    with transaction.atomic():  # a refused start leaves the mapping as it was
        imports.configure(
            me, job, mapping, on_duplicate=payload.on_duplicate, atomic=payload.atomic
        )
        imports.start(me, job, dry_run=payload.dry_run)
    job.refresh_from_db()
    return _out(job)


@router.post("/{pk}/cancel", response=ImportOut, summary="Cancel a running import")
def cancel(request: HttpRequest, pk: int) -> dict[str, Any]:
    job = _job(request, pk)
    imports.cancel(actor(request), job)
    job.refresh_from_db()
    return _out(job)


@router.post("/{pk}/undo", response=dict[str, int], summary="Undo a finished import")
def undo(request: HttpRequest, pk: int) -> dict[str, int]:
    return imports.undo(actor(request), _job(request, pk))


@router.get("/{pk}/rejected", summary="The rejected rows with the reasons, as XLSX")
def rejected(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = _job(request, pk)
    header, rows = imports.rejected_rows(job)
    return file_response("xlsx", f"rejected-rows-{job.pk}", header, rows)
