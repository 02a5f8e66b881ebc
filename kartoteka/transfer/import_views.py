"""Import pages: upload a file, map its columns, check it, import it, watch it, undo it."""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from kartoteka.core import permissions
from kartoteka.core.permissions import Denied
from kartoteka.core.views import actor
from kartoteka.transfer import importer, imports, readers
from kartoteka.transfer.fields import fields_of
from kartoteka.transfer.models import Entity, ImportJob, OnDuplicate
from kartoteka.transfer.writers import file_response

PREVIEW_ROWS = 5


def _job(request: HttpRequest, pk: int) -> ImportJob:
    return imports.visible_job(actor(request), pk)


@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    me, status = actor(request), 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        entity = request.POST.get("entity", "")
        if upload is None:
            messages.error(request, _("Choose a file."))
        else:
            try:
                job = imports.upload(me, entity, upload.name or "", upload, upload.size or 0)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            except Denied:
                messages.error(request, _("Your role may not create these records."))
                status = 403
            else:
                return redirect("import_job", job.pk)
    context = {
        "jobs": imports.visible_jobs(me)[:50],
        "entities": Entity.choices,
        "everyone": permissions.rights(me).is_admin,
    }
    return render(request, "transfer/imports.html", context, status=status)


def _preview(job: ImportJob) -> list[list[Any]]:
    """The file's first rows, to map columns by their content too."""
    try:
        table = readers.open_table(importer.source_path(job), job.filename)
        return [cells for _n, cells in islice(table.rows, PREVIEW_ROWS)]
    except (readers.FileProblem, OSError):
        return []


@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    preview = _preview(job) if job.status not in imports.RUNNING else []
    columns = [
        {
            "index": i,
            "header": h,
            "field": f,
            "cells": [r[i] if i < len(r) else "" for r in preview],
        }
        for i, (h, f) in enumerate(zip(job.headers, job.mapping, strict=False))
    ]
    context = {
        "job": job,
        "columns": columns,
        "fields": fields_of(job.entity),
        "policies": OnDuplicate.choices,
        "progress": importer.progress(job) if job.status in imports.RUNNING else None,
        "mine": job.user_id == actor(request).pk,
        "changed": imports.changed_clients(actor(request), job),
    }
    return render(request, "transfer/import_job.html", context)


@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar, polled; once the run is over the page reloads to show the result."""
    job = _job(request, pk)
    if job.status not in imports.RUNNING:
        response = HttpResponse()
        response["HX-Refresh"] = "true"
        return response
    return render(
        request, "transfer/_progress.html", {"job": job, "progress": importer.progress(job)}
    )


@require_POST
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    job, me = _job(request, pk), actor(request)
    mapping = [request.POST.get(f"col_{i}", "") for i in range(len(job.headers))]
    try:
        # All or nothing: a start that is refused leaves the mapping and the templates as they
        # were (an imported job keeps the mapping it was imported with).
        with transaction.atomic():
            imports.configure(
                me,
                job,
                mapping,
                on_duplicate=request.POST.get("on_duplicate", OnDuplicate.SKIP),
                atomic=request.POST.get("partial") != "on",
            )
            if name := request.POST.get("template", "").strip():
                imports.save_template(me, job, name)
            imports.start(me, job, dry_run=request.POST.get("action") != "import")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("import_job", job.pk)


@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        imports.cancel(actor(request), _job(request, pk))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("import_job", pk)


@require_POST
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        result = imports.undo(actor(request), _job(request, pk))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _(
                "Undone: %(deleted)d deleted, %(trashed)d moved to the trash, "
                "%(restored)d restored, %(kept)d kept because they were changed after the import."
            )
            % result,
        )
    if request.htmx:  # type: ignore[attr-defined]
        # The form asks through htmx (hx-confirm; CSP forbids inline handlers): reload the page.
        return HttpResponseClientRedirect(reverse("import_job", args=[pk]))
    return redirect("import_job", pk)


@require_GET
def import_rejected(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = _job(request, pk)
    header, rows = imports.rejected_rows(job)
    return file_response("xlsx", f"rejected-rows-{job.pk}", header, rows)
