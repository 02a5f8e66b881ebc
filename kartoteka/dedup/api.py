"""/api/v1/dedup: the single-record check, the review queue, merge, unmerge. Thin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field as NinjaField
from ninja import Query, Router, Schema

from kartoteka.clients.models import Client
from kartoteka.clients.schemas import Message, StaleOut, field_error, with_cursor
from kartoteka.core.errors import StaleVersion
from kartoteka.core.pagination import keyset_page
from kartoteka.core.views import actor
from kartoteka.dedup import merge as merging
from kartoteka.dedup import queries, services
from kartoteka.dedup.contacts import draft_contacts
from kartoteka.dedup.models import Candidate
from kartoteka.dedup.schemas import (
    CheckIn,
    CheckOut,
    MergeIn,
    MergeOut,
    PairPage,
    duplicate_out,
    merge_out,
    pair_out,
)

router = Router(tags=["duplicates"])
ERRORS: dict[int, Any] = {403: Message, 404: Message}


class PairQuery(Schema):
    cursor: str | None = NinjaField(None, max_length=500)
    limit: int = NinjaField(50, ge=1, le=200)


@router.post(
    "/check", response=CheckOut, operation_id="dedup_check", summary="Likely duplicates of a record"
)
def check(request: HttpRequest, payload: CheckIn) -> dict[str, Any]:
    fields = payload.model_dump(exclude={"phones", "emails", "kind", "exclude_id"})
    phones, emails = draft_contacts(payload.phones, payload.emails)
    draft = queries.record_from(payload.kind, fields, phones, emails)
    found = queries.check(actor(request), draft, exclude=payload.exclude_id)
    return {"items": [duplicate_out(x) for x in found.visible], "hidden": found.hidden}


@router.get("/pairs", response=PairPage, operation_id="dedup_pairs", summary="The review queue")
def pairs(request: HttpRequest, filters: Query[PairQuery]) -> dict[str, Any]:
    rows = queries.visible_pairs(actor(request))
    page = with_cursor(lambda: keyset_page(rows, "score", True, filters.cursor, filters.limit))
    return {"items": [pair_out(p) for p in page.rows], "next_cursor": page.next_cursor}


def _pair(request: HttpRequest, pk: int) -> Candidate:
    found = queries.visible_pairs(actor(request)).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _choices(pair: Candidate, survivor: Client, fields: Mapping[str, str]) -> dict[str, str]:
    """The pair's sides ("a", "b") as the merge's ("a" the survivor, "b" the loser)."""
    mine = "a" if survivor.pk == pair.a_id else "b"
    return {name: "a" if side == mine else "b" for name, side in fields.items()}


@router.post(
    "/pairs/{pk}/merge",
    response={200: MergeOut, 412: StaleOut, **ERRORS},
    operation_id="dedup_merge",
    summary="Merge a pair: the other record moves into the survivor and goes to the trash",
)
def merge(request: HttpRequest, pk: int, payload: MergeIn) -> dict[str, Any]:
    pair = _pair(request, pk)
    if payload.survivor_id not in (pair.a_id, pair.b_id):
        raise field_error(["body", "survivor_id"], _("Choose one of the pair."))
    survivor, loser = (pair.a, pair.b) if payload.survivor_id == pair.a_id else (pair.b, pair.a)
    if payload.versions is not None:
        seen = {"a": pair.a.version, "b": pair.b.version}
        for side, version in payload.versions.items():
            if version != seen[side]:
                raise StaleVersion(seen[side])
    record = merging.merge(
        actor(request), survivor, loser, _choices(pair, survivor, payload.fields)
    )
    return merge_out(record)


@router.post(
    "/pairs/{pk}/dismiss",
    response={204: None, **ERRORS},
    operation_id="dedup_dismiss",
    summary="Not a duplicate: remembered, never proposed again",
)
def dismiss(request: HttpRequest, pk: int) -> tuple[int, None]:
    services.dismiss(actor(request), _pair(request, pk))
    return 204, None


@router.get("/merges", response=list[MergeOut], operation_id="dedup_merges", summary="Merges")
def merges(request: HttpRequest, filters: Query[PairQuery]) -> list[dict[str, Any]]:
    rows = queries.visible_merges(actor(request))
    page = with_cursor(lambda: keyset_page(rows, "id", True, filters.cursor, filters.limit))
    return [merge_out(m) for m in page.rows]


@router.post(
    "/merges/{pk}/unmerge",
    response={200: MergeOut, 412: StaleOut, **ERRORS},
    operation_id="dedup_unmerge",
    summary="Undo a merge: both records as they were, each with what belongs to it",
)
def unmerge(request: HttpRequest, pk: int) -> dict[str, Any]:
    record = queries.visible_merges(actor(request)).filter(pk=pk).first()
    if record is None:
        raise Http404
    merging.unmerge(actor(request), record)
    record.refresh_from_db()
    return merge_out(record)
