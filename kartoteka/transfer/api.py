"""Exports through the API: ask for one, then download it once it is approved."""

from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from pydantic import ConfigDict

from kartoteka.core.views import actor
from kartoteka.transfer import services
from kartoteka.transfer.models import Export
from kartoteka.transfer.writers import file_response

router = Router(tags=["exports"])


class ExportIn(Schema):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        "", max_length=2000, description="The list's filters as a query string: owner=me&stage=lead"
    )
    format: str = Field(
        pattern="^(csv|xlsx|vcf)$",
        description="csv, xlsx, or vcf: one vCard 3.0 per person; companies are left out",
    )


class ExportOut(Schema):
    id: int
    status: str
    rows: int
    format: str


def _out(export: Export) -> dict[str, Any]:
    return {"id": export.pk, "status": export.status, "rows": export.rows, "format": export.format}


@router.post("", response={201: ExportOut}, summary="Ask for an export of the client list")
def create(request: HttpRequest, payload: ExportIn) -> tuple[int, dict[str, Any]]:
    """Within the daily limit the export is approved at once; over it, it waits for a head.

    `rows` counts what the file will hold: for a vCard export, the persons of the list only.
    """
    return 201, _out(services.request_export(actor(request), payload.query, payload.format))


@router.get("/{pk}", response=ExportOut, summary="An export's status")
def read(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _out(get_object_or_404(Export, pk=pk, user=actor(request)))


@router.get("/{pk}/download", summary="Download an approved export (once)")
def download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """CSV, XLSX, or vCard (text/vcard) with fields the role may not see left out."""
    export = get_object_or_404(Export, pk=pk, user=actor(request))
    header, rows = services.download(actor(request), export)
    return file_response(export.format, f"clients-{export.pk}", header, rows)
