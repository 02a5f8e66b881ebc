"""/api/v1/interactions: the timeline's calls, meetings, purchases, complaints and notes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from kartoteka.activities.models import Interaction
from kartoteka.activities.queries import visible_interactions
from kartoteka.activities.services import log_interaction, trash_interaction, update_interaction
from kartoteka.clients.queries import visible_clients
from kartoteka.clients.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_TEXT,
    Clean,
    Message,
    Strict,
    UserOut,
    enum,
    field_error,
    user_out,
    with_cursor,
)
from kartoteka.core.pagination import Page, keyset_page
from kartoteka.core.permissions import Action, get_or_404, require
from kartoteka.core.views import actor

router = Router(tags=["interactions"])
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """Naive times are read in the server's time zone; years outside 1900–2200 are refused."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if not EARLIEST <= value <= LATEST:
        raise ValueError(_("Enter a time between the years 1900 and 2200."))
    return value


class InteractionPatch(Strict):
    """Only the keys sent change. `author`, `client` and timestamps cannot be set."""

    kind: str | None = Field(None, max_length=10, json_schema_extra=enum(Interaction.Kind.values))
    occurred_at: dt.datetime | None = Field(
        None, description="ISO 8601; without an offset: server time zone."
    )
    channel: str | None = Field(
        None, max_length=10, json_schema_extra=enum(["", *Interaction.Channel.values])
    )
    subject: str | None = Field(None, max_length=300)
    summary: str | None = Field(None, max_length=MAX_TEXT)
    direction: str | None = Field(None, max_length=3, json_schema_extra=enum(["", "in", "out"]))
    duration_seconds: int | None = Field(None, ge=0, le=2**31 - 1)
    result: str | None = Field(None, max_length=200)
    amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)
    currency: str | None = Field(None, max_length=3)
    number: str | None = Field(None, max_length=60, description="An order's or invoice's number.")
    items: list[dict[str, str | int | float | None]] | None = Field(None, max_length=500)
    complaint_status: str | None = Field(
        None, max_length=12, json_schema_extra=enum(["", *Interaction.ComplaintStatus.values])
    )

    @field_validator("occurred_at")
    @classmethod
    def _in_range(cls, value: dt.datetime | None) -> dt.datetime | None:
        return _aware(value)


class InteractionIn(InteractionPatch):
    client_id: int = Field(ge=1, le=2**62)
    kind: str = Field(max_length=10, json_schema_extra=enum(Interaction.Kind.values, False))


class InteractionOut(Schema):
    id: int
    client_id: int
    client_name: str
    kind: str
    occurred_at: dt.datetime
    author: UserOut | None
    channel: str
    subject: str
    summary: str
    direction: str
    duration_seconds: int | None
    result: str
    amount: str | None = Field(description="A decimal number as a string.")
    currency: str
    number: str
    items: list[dict[str, Any]]
    complaint_status: str
    created_at: dt.datetime
    updated_at: dt.datetime


class InteractionPage(Schema):
    items: list[InteractionOut]
    next_cursor: str | None


class TimelineQuery(Clean):
    kind: str | None = Field(None, max_length=10, json_schema_extra=enum(Interaction.Kind.values))
    since: dt.date | None = None
    until: dt.date | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class InteractionQuery(TimelineQuery):
    client_id: int | None = Field(None, ge=1, le=2**62)


OUT_FIELDS = (
    "id",
    "client_id",
    "kind",
    "occurred_at",
    "channel",
    "subject",
    "summary",
    "direction",
    "duration_seconds",
    "result",
    "currency",
    "number",
    "items",
    "complaint_status",
    "created_at",
    "updated_at",
)


def interaction_out(row: Interaction) -> dict[str, Any]:
    """An interaction as the API shows it; `client` and `author` should be selected."""
    data = {name: getattr(row, name) for name in OUT_FIELDS}
    data["client_name"] = row.client.name
    data["author"] = user_out(row.author) if row.author_id else None
    data["amount"] = None if row.amount is None else str(row.amount)
    return data


def page_out(page: Page[Interaction]) -> dict[str, Any]:
    return {"items": [interaction_out(r) for r in page.rows], "next_cursor": page.next_cursor}


def check_kind(kind: str | None) -> None:
    if kind and kind not in Interaction.Kind.values:
        raise field_error(["query", "kind"], _("Unknown kind of interaction."))


def paged(rows: QuerySet[Interaction], cursor: str | None, limit: int) -> Page[Interaction]:
    return with_cursor(lambda: keyset_page(rows, "occurred_at", True, cursor, limit))


def _fields(payload: InteractionPatch) -> dict[str, Any]:
    fields = payload.model_dump(exclude_unset=True, exclude={"client_id"})
    if "items" in fields and fields["items"] is None:
        fields["items"] = []
    return fields


def _visible(request: HttpRequest, action: Action, interaction_id: int) -> Interaction:
    rows = visible_interactions(actor(request)).select_related("client", "author")
    return get_or_404(actor(request), action, rows, pk=interaction_id)


@router.get("", response=InteractionPage, summary="List interactions, newest first")
def list_interactions(request: HttpRequest, filters: Query[InteractionQuery]) -> dict[str, Any]:
    check_kind(filters.kind)
    rows = visible_interactions(actor(request)).select_related("client", "author")
    if filters.client_id:
        rows = rows.filter(client_id=filters.client_id)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.since:
        rows = rows.filter(occurred_at__date__gte=filters.since)
    if filters.until:
        rows = rows.filter(occurred_at__date__lte=filters.until)
    return page_out(paged(rows, filters.cursor, filters.limit))


@router.post("", response={201: InteractionOut, 403: Message}, summary="Log an interaction")
def create_interaction(request: HttpRequest, payload: InteractionIn) -> tuple[int, dict[str, Any]]:
    require(actor(request), Action.CREATE, Interaction)
    client = visible_clients(actor(request)).filter(pk=payload.client_id).first()
    if client is None:
        raise field_error(["body", "client_id"], _("There is no such client."))
    row = log_interaction(actor(request), client, _fields(payload))
    return 201, interaction_out(_visible(request, Action.VIEW, row.pk))


@router.get("/{interaction_id}", response=InteractionOut, summary="Read an interaction")
def read_interaction(request: HttpRequest, interaction_id: int) -> dict[str, Any]:
    return interaction_out(_visible(request, Action.VIEW, interaction_id))


@router.patch("/{interaction_id}", response=InteractionOut, summary="Change an interaction")
def patch_interaction(
    request: HttpRequest, interaction_id: int, payload: InteractionPatch
) -> dict[str, Any]:
    row = _visible(request, Action.EDIT, interaction_id)
    update_interaction(actor(request), row, _fields(payload))
    return interaction_out(_visible(request, Action.VIEW, interaction_id))


@router.delete(
    "/{interaction_id}", response={204: None}, summary="Move an interaction to the trash"
)
def delete_interaction(request: HttpRequest, interaction_id: int) -> tuple[int, None]:
    row = _visible(request, Action.DELETE, interaction_id)
    trash_interaction(actor(request), row)
    return 204, None
