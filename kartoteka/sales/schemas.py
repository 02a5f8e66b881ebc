"""The deals API's schemas and how a deal is shown."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema

from kartoteka.clients.models import Client
from kartoteka.clients.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Clean,
    ClientRef,
    Strict,
    UserOut,
    enum,
    ref_out,
    user_out,
)
from kartoteka.sales.models import Deal, Stage, StageChange

MAX_CONTACTS = 50
ID = Field(None, ge=1, le=2**62)


# --- schemas ----------------------------------------------------------------------------------


class StageOut(Schema):
    id: int
    name: str
    position: int
    probability: int
    kind: str
    required_fields: list[str]


class PipelineOut(Schema):
    id: int
    name: str
    position: int
    stages: list[StageOut]


class ReasonOut(Schema):
    id: int
    name: str


class PipelineList(Schema):
    items: list[PipelineOut]
    loss_reasons: list[ReasonOut]


class StageRef(Schema):
    id: int
    name: str
    kind: str
    probability: int


class MoveOut(Schema):
    from_stage: StageRef | None
    to_stage: StageRef
    actor: UserOut | None
    at: dt.datetime
    seconds_in_stage: int | None = Field(description="Time spent in from_stage.")


class DealOut(Schema):
    id: int
    title: str
    version: int
    pipeline_id: int
    stage: StageRef
    client: ClientRef
    contacts: list[ClientRef]
    owner: UserOut | None
    amount: str | None = Field(description="A decimal number as a string.")
    currency: str
    expected_close: dt.date | None
    source: str
    next_step: str
    loss_reason: ReasonOut | None
    stage_entered_at: dt.datetime
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    history: list[MoveOut] | None = Field(None, description="One deal: its moves, newest first.")


class DealPage(Schema):
    items: list[DealOut]
    next_cursor: str | None


class Requirable(Strict):
    """Fields a stage may require; on PATCH only the keys sent change, null clears a field."""

    # Digits are checked by the service, whose messages are translated.
    amount: Decimal | None = Field(
        None, ge=0, allow_inf_nan=False, description="At most 12 digits, and 2 after the point."
    )
    currency: str | None = Field(None, max_length=3)
    expected_close: dt.date | None = None
    source: str | None = Field(
        None, max_length=20, json_schema_extra=enum(["", *Client.Source.values])
    )
    next_step: str | None = Field(None, max_length=300)
    contact_ids: list[Annotated[int, Field(ge=1, le=2**62)]] | None = Field(
        None, max_length=MAX_CONTACTS, description="Persons; replaces the deal's contacts."
    )


class DealFields(Requirable):
    title: str | None = Field(None, max_length=200)
    client_id: int | None = ID
    owner_id: int | None = Field(None, ge=1, le=2**62, description="Left out on create: you.")


class DealIn(DealFields):
    title: str = Field(max_length=200)
    client_id: int = Field(ge=1, le=2**62)
    pipeline_id: int | None = Field(None, ge=1, le=2**62, description="Default: the first.")
    stage_id: int | None = Field(None, ge=1, le=2**62, description="Default: the first stage.")


class DealPatch(DealFields):
    version: int | None = Field(None, ge=1, le=2**31, description="Or the If-Match header.")


class MoveIn(Requirable):
    """The stage, the version read, and the fields the stage requires."""

    stage_id: int = Field(ge=1, le=2**62)
    version: int | None = Field(None, ge=1, le=2**31, description="Or the If-Match header.")
    loss_reason_id: int | None = ID


class DealQuery(Clean):
    pipeline: int | None = ID
    stage: int | None = ID
    owner: str | None = Field(None, max_length=20, description="A user id, `me` or `none`.")
    client_id: int | None = ID
    status: str | None = Field(None, max_length=4, json_schema_extra=enum(Stage.Kind.values))
    q: str | None = Field(None, max_length=200, description="A part of the title, any case.")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


# --- output -----------------------------------------------------------------------------------


def stage_ref(stage: Stage) -> dict[str, Any]:
    return {
        "id": stage.pk,
        "name": stage.name,
        "kind": stage.kind,
        "probability": stage.probability,
    }


def move_out(row: StageChange) -> dict[str, Any]:
    return {
        "from_stage": None if row.from_stage is None else stage_ref(row.from_stage),
        "to_stage": stage_ref(row.to_stage),
        "actor": user_out(row.actor) if row.actor_id else None,
        "at": row.at,
        "seconds_in_stage": row.seconds_in_stage,
    }


def deal_out(deal: Deal, history: list[StageChange] | None = None) -> dict[str, Any]:
    """A deal as the API shows it; stage, client, owner, loss reason and contacts loaded."""
    reason = deal.loss_reason
    return {
        "id": deal.pk,
        "title": deal.title,
        "version": deal.version,
        "pipeline_id": deal.pipeline_id,
        "stage": stage_ref(deal.stage),
        "client": ref_out(deal.client),
        "contacts": [ref_out(c) for c in deal.contacts.all()],
        "owner": user_out(deal.owner) if deal.owner_id else None,
        "amount": None if deal.amount is None else str(deal.amount),
        "currency": deal.currency,
        "expected_close": deal.expected_close,
        "source": deal.source,
        "next_step": deal.next_step,
        "loss_reason": {"id": reason.pk, "name": reason.name} if reason else None,
        "stage_entered_at": deal.stage_entered_at,
        "closed_at": deal.closed_at,
        "created_at": deal.created_at,
        "updated_at": deal.updated_at,
        "history": None if history is None else [move_out(r) for r in history],
    }
