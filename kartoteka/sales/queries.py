"""Reads of sales that others reuse, always narrowed by the permissions engine."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from kartoteka.clients.models import Client
from kartoteka.clients.search import fold
from kartoteka.core import permissions
from kartoteka.core.lookups import like_escape
from kartoteka.core.permissions import Action, AnyUser
from kartoteka.sales.models import Deal, Pipeline, Stage, StageChange

COLUMN_PAGE = 20


def visible_deals(user: AnyUser, action: Action = Action.VIEW) -> QuerySet[Deal]:
    return permissions.scope(user, action, Deal.objects.all())


def pipelines() -> QuerySet[Pipeline]:
    return Pipeline.objects.filter(is_active=True).prefetch_related("stages")


@dataclass
class Column:
    stage: Stage
    count: int
    sums: dict[str, Decimal]  # currency -> total of the stage's visible deals
    deals: list[Deal]
    more: bool


def board(user: AnyUser, pipeline: Pipeline, deals: QuerySet[Deal] | None = None) -> list[Column]:
    """The kanban: per stage, its count and sums (one grouped query) and its first deals."""
    base = (deals if deals is not None else visible_deals(user)).filter(pipeline=pipeline)
    totals: dict[int, dict[str, Any]] = {}
    grouped = base.values("stage", "currency").annotate(n=Count("id"), total=Sum("amount"))
    for row in grouped.order_by():
        entry = totals.setdefault(row["stage"], {"count": 0, "sums": {}})
        entry["count"] += row["n"]
        if row["total"] is not None:
            entry["sums"][row["currency"]] = row["total"]
    columns = []
    for stage in pipeline.stages.all():
        page = list(column_page(base, stage))
        entry = totals.get(stage.pk, {"count": 0, "sums": {}})
        columns.append(
            Column(
                stage, entry["count"], entry["sums"], page[:COLUMN_PAGE], len(page) > COLUMN_PAGE
            )
        )
    return columns


def column_page(
    deals: QuerySet[Deal], stage: Stage, after: tuple[Any, int] | None = None
) -> QuerySet[Deal]:
    """One more than a page of a stage's deals, newest activity first, after a keyset cursor."""
    rows = deals.filter(stage=stage).select_related("client", "owner")
    if after is not None:
        moment, pk = after
        rows = rows.filter(updated_at__lt=moment) | rows.filter(updated_at=moment, pk__lt=pk)
    return rows.order_by("-updated_at", "-id")[: COLUMN_PAGE + 1]


def deals_of(user: AnyUser, client: Client) -> QuerySet[Deal]:
    """The deals of a client's card."""
    return (
        visible_deals(user)
        .filter(client=client)
        .select_related("stage", "pipeline", "owner")
        .order_by("-created_at")
    )


NOBODY = "none"


def filter_deals(
    deals: QuerySet[Deal],
    *,
    pipeline: int | None = None,
    stage: int | None = None,
    owner: int | str | None = None,
    client: int | None = None,
    status: str | None = None,
    q: str = "",
) -> QuerySet[Deal]:
    """The list's filters, each mapped to one field (request keys never reach the ORM).

    `owner` is a user id or "none"; `status` a stage kind (open, won, lost); `q` a part of the
    title in any case (the case-folded column, so Cyrillic works on SQLite too).
    """
    if pipeline is not None:
        deals = deals.filter(pipeline_id=pipeline)
    if stage is not None:
        deals = deals.filter(stage_id=stage)
    if owner == NOBODY:
        deals = deals.filter(owner__isnull=True)
    elif owner is not None:
        deals = deals.filter(owner_id=int(owner))
    if client is not None:
        deals = deals.filter(client_id=client)
    if status:
        deals = deals.filter(stage__kind=status)
    for word in fold(q).split()[:6]:
        deals = deals.filter(search_title__like=f"%{like_escape(word)}%")
    return deals


def history(deal: Deal) -> QuerySet[StageChange]:
    """A deal's moves, newest first: from, to, who, when and the time spent in the stage left."""
    return StageChange.objects.filter(deal=deal).select_related("from_stage", "to_stage", "actor")
