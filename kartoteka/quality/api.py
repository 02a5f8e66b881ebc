"""/api/v1/quality: scorecards, samples, evaluations and operator scores. Thin: reads through
queries (scoped), writes through services; scorecards and evaluations change with their
version (If-Match or `version`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kartoteka.accounts.models import User
from kartoteka.callcenter import access
from kartoteka.clients.schemas import (
    ERRORS,
    IF_MATCH,
    WRITE_ERRORS,
    Strict,
    expected_version,
    field_error,
    with_cursor,
)
from kartoteka.core.errors import api_call, body_loc
from kartoteka.core.pagination import keyset_page
from kartoteka.core.views import actor
from kartoteka.quality import queries, services
from kartoteka.quality.models import MAX_SCALE, MAX_WEIGHT, Evaluation, Scorecard

router = Router(tags=["quality"])


_loc = body_loc()  # `criteria.1.weight` → ["body", "criteria", 1, "weight"]


# --- schemas ----------------------------------------------------------------------------------


class CriterionSchema(Strict):
    label: str = Field(max_length=200)
    kind: Literal["yes_no", "scale"] = "yes_no"
    max_score: int = Field(1, ge=1, le=MAX_SCALE)
    # Range checked by the service, so its message names the row.
    weight: int = Field(ge=-(2**31), le=2**31, description=f"1…{MAX_WEIGHT}")
    critical: bool = False


class ScorecardIn(Strict):
    name: str = Field(max_length=150)
    is_active: bool = True
    criteria: list[CriterionSchema] = Field(max_length=services.MAX_CRITERIA + 1)
    version: int | None = Field(None, ge=1, le=2**31)


class ScorecardOut(Schema):
    id: int
    name: str
    is_active: bool
    version: int
    criteria: list[CriterionSchema]


class SampleIn(Strict):
    scorecard_id: int = Field(ge=1, le=2**62)
    evaluator_id: int | None = Field(None, ge=1, le=2**62)
    start: dt.date
    end: dt.date
    queue: str = Field("", max_length=80)
    per_operator: int | None = Field(None, ge=-(2**15), le=2**15)
    percent: int | None = Field(None, ge=-(2**15), le=2**15)
    seed: int | None = Field(None, ge=-(2**63), le=2**63)


class SampleOut(Schema):
    id: int
    scorecard_id: int
    evaluator_id: int
    seed: int
    drawn: int
    evaluation_ids: list[int]


class AnswerOut(Schema):
    id: int
    label: str
    kind: str
    max_score: int
    weight: int
    critical: bool
    score: int | None
    comment: str


class EvaluationOut(Schema):
    id: int
    call_id: int
    scorecard_id: int
    scorecard_version: int
    operator_id: int
    evaluator_id: int
    state: str
    total: Decimal | None
    critical_failed: bool
    comment: str
    submitted_at: dt.datetime | None
    call_started_at: dt.datetime
    recording_url: str
    reply: str
    reply_comment: str
    version: int
    answers: list[AnswerOut]


class EvaluationPage(Schema):
    items: list[EvaluationOut]
    next_cursor: str | None


class EvaluationQuery(Strict):
    state: Literal["pending", "submitted"] | None = None
    operator_id: int | None = Field(None, ge=1, le=2**62)
    mine: bool = False
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


class ScoreIn(Strict):
    answer_id: int = Field(ge=1, le=2**62)
    score: int | None = Field(None, ge=-(2**15), le=2**15, description="null: not applicable")
    comment: str = Field("", max_length=services.MAX_TEXT)


class EvaluationIn(Strict):
    scores: list[ScoreIn] = Field(max_length=services.MAX_CRITERIA + 1)
    comment: str = Field("", max_length=services.MAX_TEXT)
    submit: bool = False
    version: int | None = Field(None, ge=1, le=2**31)


class ReplyIn(Strict):
    reply: Literal["acknowledged", "disputed"]
    comment: str = Field("", max_length=services.MAX_TEXT)


class ScoresQuery(Strict):
    start: dt.date
    end: dt.date
    grain: Literal["week", "month"] = "week"
    operator_id: int | None = Field(None, ge=1, le=2**62)


class SeriesOut(Schema):
    operator_id: int
    operator: str
    values: list[float | None]
    counts: list[int]


class CriterionStat(Schema):
    label: str
    scored: int
    failed: int
    fail_rate: float
    average: float


class ScoresOut(Schema):
    periods: list[dt.date]
    series: list[SeriesOut]
    criteria: list[CriterionStat]


def scorecard_out(card: Scorecard) -> dict[str, Any]:
    return {
        "id": card.pk,
        "name": card.name,
        "is_active": card.is_active,
        "version": card.version,
        "criteria": [
            {
                "label": c.label,
                "kind": c.kind,
                "max_score": c.max_score,
                "weight": c.weight,
                "critical": c.critical,
            }
            for c in card.criteria.all()
        ],
    }


def evaluation_out(row: Evaluation) -> dict[str, Any]:
    fields = {name: getattr(row, name) for name in EvaluationOut.model_fields if hasattr(row, name)}
    url = row.call.recording_url
    return {
        **fields,
        "recording_url": url if url.startswith(("https://", "http://")) else "",
        "answers": list(row.answers.all()),
    }


def _known_only(request: HttpRequest, schema: type[Schema]) -> None:
    """Query parameters are mapped to filters one by one: an unknown one is refused, not ignored."""
    unknown = sorted(set(request.GET) - set(schema.model_fields))
    if unknown:
        raise field_error(["query", unknown[0][:100]], _("There is no such filter."))


def _criteria(payload: ScorecardIn) -> list[services.CriterionIn]:
    return [services.CriterionIn(**c.model_dump()) for c in payload.criteria]


# --- scorecards -------------------------------------------------------------------------------


@router.get("/scorecards", response={200: list[ScorecardOut], **ERRORS}, summary="Scorecards")
def list_scorecards(request: HttpRequest) -> list[dict[str, Any]]:
    me = actor(request)
    access.require_runs_centre(me)
    return [scorecard_out(c) for c in queries.scorecards(me).prefetch_related("criteria")]


@router.post("/scorecards", response={201: ScorecardOut, **ERRORS}, summary="Create a scorecard")
def create_scorecard(request: HttpRequest, payload: ScorecardIn) -> tuple[int, dict[str, Any]]:
    me = actor(request)
    card = api_call(
        lambda: services.save_scorecard(
            me, None, name=payload.name, is_active=payload.is_active, criteria=_criteria(payload)
        ),
        _loc,
    )
    return 201, scorecard_out(card)


@router.get("/scorecards/{card_id}", response={200: ScorecardOut, **ERRORS}, summary="A scorecard")
def read_scorecard(request: HttpRequest, card_id: int, response: HttpResponse) -> dict[str, Any]:
    card = queries.scorecard_or_404(actor(request), card_id)
    response["ETag"] = f'"{card.version}"'
    return scorecard_out(card)


@router.put(
    "/scorecards/{card_id}",
    response={200: ScorecardOut, **WRITE_ERRORS},
    summary="Save a new version of a scorecard",
    description="Needs If-Match or `version`. Evaluations already made keep their criteria.",
)
def update_scorecard(
    request: HttpRequest,
    card_id: int,
    payload: ScorecardIn,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    me = actor(request)
    card = queries.scorecard_or_404(me, card_id)
    expected = expected_version(if_match, payload.version)
    saved = api_call(
        lambda: services.save_scorecard(
            me,
            card,
            name=payload.name,
            is_active=payload.is_active,
            criteria=_criteria(payload),
            expected_version=expected,
        ),
        _loc,
    )
    response["ETag"] = f'"{saved.version}"'
    return scorecard_out(saved)


@router.delete(
    "/scorecards/{card_id}", response={204: None, **ERRORS}, summary="Move a scorecard to trash"
)
def delete_scorecard(request: HttpRequest, card_id: int) -> tuple[int, None]:
    me = actor(request)
    services.delete_scorecard(me, queries.scorecard_or_404(me, card_id))
    return 204, None


# --- samples ----------------------------------------------------------------------------------


@router.post("/samples", response={201: SampleOut, **ERRORS}, summary="Draw calls to evaluate")
def create_sample(request: HttpRequest, payload: SampleIn) -> tuple[int, dict[str, Any]]:
    me = actor(request)
    access.require_runs_centre(me)
    card = queries.scorecards(me).filter(pk=payload.scorecard_id).first()
    if card is None:
        raise field_error(["body", "scorecard_id"], _("There is no such scorecard."))
    evaluator = me
    if payload.evaluator_id is not None:
        found = User.objects.filter(pk=payload.evaluator_id, is_active=True).first()
        if found is None:
            raise field_error(["body", "evaluator_id"], _("There is no such user."))
        evaluator = found
    sample = api_call(
        lambda: services.draw_sample(
            me,
            scorecard=card,
            evaluator=evaluator,
            start=payload.start,
            end=payload.end,
            queue=payload.queue.strip(),
            per_operator=payload.per_operator,
            percent=payload.percent,
            seed=payload.seed,
        ),
        lambda key: ["body", "evaluator_id" if key == "evaluator" else key],
    )
    ids = list(sample.evaluations.order_by("id").values_list("id", flat=True))
    return 201, {
        "id": sample.pk,
        "scorecard_id": card.pk,
        "evaluator_id": evaluator.pk,
        "seed": sample.seed,
        "drawn": sample.drawn,
        "evaluation_ids": ids,
    }


# --- evaluations ------------------------------------------------------------------------------


@router.get("/evaluations", response=EvaluationPage, summary="Evaluations you may see")
def list_evaluations(request: HttpRequest, filters: Query[EvaluationQuery]) -> dict[str, Any]:
    _known_only(request, EvaluationQuery)
    me = actor(request)
    rows = queries.visible_evaluations(me).select_related("call").prefetch_related("answers")
    if filters.state:
        rows = rows.filter(state=filters.state)
    if filters.operator_id:
        rows = rows.filter(operator_id=filters.operator_id)
    if filters.mine:
        rows = rows.filter(evaluator=me)
    page = with_cursor(lambda: keyset_page(rows, "id", True, filters.cursor, filters.limit))
    return {"items": [evaluation_out(r) for r in page.rows], "next_cursor": page.next_cursor}


@router.get(
    "/evaluations/{evaluation_id}", response={200: EvaluationOut, **ERRORS}, summary="An evaluation"
)
def read_evaluation(
    request: HttpRequest, evaluation_id: int, response: HttpResponse
) -> dict[str, Any]:
    row = queries.evaluation_or_404(actor(request), evaluation_id)
    response["ETag"] = f'"{row.version}"'
    return evaluation_out(row)


@router.put(
    "/evaluations/{evaluation_id}",
    response={200: EvaluationOut, **WRITE_ERRORS},
    summary="Save scores as a draft, or submit them",
    description="Needs If-Match or `version`. The total is computed by the server.",
)
def save_evaluation(
    request: HttpRequest,
    evaluation_id: int,
    payload: EvaluationIn,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    me = actor(request)
    row = queries.evaluation_or_404(me, evaluation_id)
    expected = expected_version(if_match, payload.version)
    scores = [services.ScoreIn(s.answer_id, s.score, s.comment) for s in payload.scores]
    api_call(
        lambda: services.save_evaluation(
            me, row, expected, scores=scores, comment=payload.comment, submit=payload.submit
        ),
        _loc,
    )
    saved = queries.evaluation_or_404(me, evaluation_id)
    response["ETag"] = f'"{saved.version}"'
    return evaluation_out(saved)


@router.post(
    "/evaluations/{evaluation_id}/reply",
    response={200: EvaluationOut, **ERRORS},
    summary="The operator acknowledges or disputes their evaluation",
)
def reply(request: HttpRequest, evaluation_id: int, payload: ReplyIn) -> dict[str, Any]:
    me = actor(request)
    row = queries.evaluation_or_404(me, evaluation_id)
    api_call(lambda: services.reply(me, row, payload.reply, payload.comment), _loc)
    return evaluation_out(queries.evaluation_or_404(me, evaluation_id))


# --- scores -----------------------------------------------------------------------------------


@router.get("/scores", response={200: ScoresOut, **ERRORS}, summary="Operator scores over time")
def scores(request: HttpRequest, filters: Query[ScoresQuery]) -> dict[str, Any]:
    _known_only(request, ScoresQuery)
    if filters.end < filters.start or (filters.end - filters.start).days > 366:
        raise field_error(["query", "end"], _("The end must be after the start, within a year."))
    result = queries.scores(
        actor(request), filters.start, filters.end, filters.grain, filters.operator_id
    )
    return {
        "periods": result.periods,
        "series": [
            {
                "operator_id": row["user"].pk,
                "operator": str(row["user"]),
                "values": [None if c[1] is None else float(c[1]) for c in row["cells"]],
                "counts": [c[2] for c in row["cells"]],
            }
            for row in result.rows
        ],
        "criteria": result.criteria,
    }
