"""Bodies and answers of the duplicates API."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from kartoteka.clients.schemas import Clean
from kartoteka.dedup import queries
from kartoteka.dedup.models import Candidate, Merge

Side = Literal["a", "b"]


class DuplicateOut(Schema):
    id: int
    name: str
    kind: str
    score: float
    reasons: list[str]


class DuplicatesOut(Schema):
    detail: str
    duplicates: list[DuplicateOut]
    hidden: int = 0


class CheckIn(Clean):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["person", "company"]
    last_name: str = Field("", max_length=100)
    first_name: str = Field("", max_length=100)
    middle_name: str = Field("", max_length=100)
    company_name: str = Field("", max_length=300)
    legal_form: str = Field("", max_length=60)
    inn: str = Field("", max_length=12)
    kpp: str = Field("", max_length=9)
    birthday: str = Field("", max_length=10, description="YYYY-MM-DD")
    address: str = Field("", max_length=2000)
    phones: list[str] = Field(default_factory=list, max_length=20)
    emails: list[str] = Field(default_factory=list, max_length=20)
    exclude_id: int | None = Field(None, description="The client's own id when it is edited.")


class CheckOut(Schema):
    items: list[DuplicateOut]
    hidden: int = Field(description="Likely duplicates you may not see.")


class ClientRef(Schema):
    id: int
    name: str
    kind: str


class PairOut(Schema):
    id: int
    a: ClientRef
    b: ClientRef
    score: float
    reasons: list[str]
    cluster: int
    status: str


class PairPage(Schema):
    items: list[PairOut]
    next_cursor: str | None


class MergeIn(Clean):
    model_config = ConfigDict(extra="forbid")

    survivor_id: int = Field(description="a_id or b_id of the pair: the record that stays.")
    fields: dict[str, Side] = Field(
        default_factory=dict,
        description='Per field, whose value the survivor keeps: "a" or "b" (the pair\'s sides).',
    )
    versions: dict[Side, int] | None = Field(
        None, description="The versions of a and b as read; 412 if either changed since."
    )


class MergeOut(Schema):
    id: int
    survivor_id: int
    loser_id: int
    at: Any
    automatic: bool
    undone: bool


def duplicate_out(found: queries.Likely) -> dict[str, Any]:
    return {
        "id": found.client.pk,
        "name": found.client.name,
        "kind": found.client.kind,
        "score": found.score,
        "reasons": list(found.reasons),
    }


def _ref(client: Any) -> dict[str, Any]:
    return {"id": client.pk, "name": client.name, "kind": client.kind}


def pair_out(pair: Candidate) -> dict[str, Any]:
    return {
        "id": pair.pk,
        "a": _ref(pair.a),
        "b": _ref(pair.b),
        "score": pair.score,
        "reasons": list(pair.reasons),
        "cluster": pair.cluster,
        "status": pair.status,
    }


def merge_out(record: Merge) -> dict[str, Any]:
    return {
        "id": record.pk,
        "survivor_id": record.survivor_id,
        "loser_id": record.loser_id,
        "at": record.at,
        "automatic": record.automatic,
        "undone": record.undone_at is not None,
    }


from kartoteka.clients.schemas import ClientOut  # noqa: E402 - after the shared schemas above


class ClientCreatedOut(ClientOut):
    likely_duplicates: list[DuplicateOut] = Field(
        default_factory=list, description="Existing clients this one looks like."
    )
