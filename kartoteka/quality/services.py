"""Every write of call quality: scorecards, samples, evaluations and the operator's reply.
Each owns its transaction and audit row; the access rules are checked here, so the pages, the
API and any job share them."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.callcenter import access
from kartoteka.callcenter.models import Call
from kartoteka.core import audit, permissions
from kartoteka.core.errors import check_version
from kartoteka.core.permissions import Action
from kartoteka.quality import queries, scoring
from kartoteka.quality.models import (
    MAX_SCALE,
    MAX_WEIGHT,
    Answer,
    Criterion,
    Evaluation,
    Sample,
    Scorecard,
)

MAX_CRITERIA = 50
MAX_TEXT = 5_000
MAX_SAMPLE = 500
MAX_DAYS = 366


# --- scorecards -------------------------------------------------------------------------------


@dataclass
class CriterionIn:
    label: str
    weight: int
    kind: str = Criterion.Kind.YES_NO
    max_score: int = 1
    critical: bool = False


def _check_criteria(rows: list[CriterionIn], numbers: list[int]) -> dict[str, list[str]]:
    """Errors keyed `criteria.<index>.<field>`, each message naming the row as the user sees it
    (`numbers`: the row number of each criterion)."""
    errors: dict[str, list[str]] = {}
    if not rows:
        errors["criteria"] = [_("Add at least one criterion.")]
    if len(rows) > MAX_CRITERIA:
        errors["criteria"] = [_("At most %(n)d criteria.") % {"n": MAX_CRITERIA}]
    for index, row in enumerate(rows):
        where = _("Row %(n)d") % {"n": numbers[index]}

        def add(name: str, message: str, index: int = index, where: str = where) -> None:
            errors.setdefault(f"criteria.{index}.{name}", []).append(f"{where}: {message}")

        if not row.label.strip():
            add("label", _("name the criterion."))
        elif len(row.label) > 200:
            add("label", _("at most 200 characters."))
        if row.kind not in Criterion.Kind.values:
            add("kind", _("choose yes / no or a scale."))
        if not 1 <= row.weight <= MAX_WEIGHT:
            add("weight", _("the weight must be from 1 to %(n)d.") % {"n": MAX_WEIGHT})
        if row.kind == Criterion.Kind.SCALE and not 1 <= row.max_score <= MAX_SCALE:
            add("max_score", _("the scale must go up to 1…%(n)d.") % {"n": MAX_SCALE})
    return errors


def save_scorecard(
    actor: User,
    scorecard: Scorecard | None,
    *,
    name: str,
    is_active: bool,
    criteria: list[CriterionIn],
    expected_version: int | None = None,
    row_numbers: list[int] | None = None,
) -> Scorecard:
    """Create a scorecard, or save a new version of it; evaluations already made keep the
    criteria they were scored on (their answers are copies)."""
    access.require_runs_centre(actor)
    numbers = row_numbers or list(range(1, len(criteria) + 1))
    errors = _check_criteria(criteria, numbers)
    name = name.strip()
    if not name:
        errors["name"] = [_("Name the scorecard.")]
    elif len(name) > 150:
        errors["name"] = [_("At most %(n)d characters.") % {"n": 150}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if scorecard is None:
            row = Scorecard.objects.create(name=name, is_active=is_active, created_by=actor)
            verb = "create"
        else:
            row = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
            check_version(row, expected_version)
            row.name, row.is_active = name, is_active
            row.version += 1
            row.save()
            row.criteria.all().delete()
            verb = "update"
        Criterion.objects.bulk_create(
            Criterion(
                scorecard=row,
                position=index,
                label=c.label.strip(),
                kind=c.kind,
                max_score=c.max_score if c.kind == Criterion.Kind.SCALE else 1,
                weight=c.weight,
                critical=c.critical,
            )
            for index, c in enumerate(criteria)
        )
        audit.record(actor, verb, row, version=row.version)
    return row


def delete_scorecard(actor: User, scorecard: Scorecard) -> None:
    """To the trash: its evaluations stay, and it is no longer offered for new ones."""
    access.require_runs_centre(actor)
    with transaction.atomic():
        Scorecard.objects.filter(pk=scorecard.pk).update(deleted_at=timezone.now(), is_active=False)
        audit.record(actor, "delete", scorecard)


# --- samples ----------------------------------------------------------------------------------


def draw_sample(
    actor: User,
    *,
    scorecard: Scorecard,
    evaluator: User,
    start: dt.date,
    end: dt.date,
    queue: str = "",
    per_operator: int | None = None,
    percent: int | None = None,
    seed: int | None = None,
) -> Sample:
    """Draw calls to evaluate: per operator, N calls or a share of theirs, answered and recorded,
    not evaluated on this scorecard yet. The same seed over the same calls draws the same ones."""
    access.require_runs_centre(actor)
    errors: dict[str, list[str]] = {}
    if (per_operator is None) == (percent is None):
        errors["per_operator"] = [_("Give either a number of calls per operator or a percent.")]
    elif per_operator is not None and not 1 <= per_operator <= 100:
        errors["per_operator"] = [_("From 1 to 100 calls per operator.")]
    elif percent is not None and not 1 <= percent <= 100:
        errors["percent"] = [_("A percent from 1 to 100.")]
    if end < start:
        errors["end"] = [_("The period ends before it starts.")]
    elif (end - start).days > MAX_DAYS:
        errors["end"] = [_("At most %(n)d days.") % {"n": MAX_DAYS}]
    if not scorecard.is_active or scorecard.deleted_at is not None:
        errors["scorecard"] = [_("This scorecard is not in use.")]
    if not access.runs_centre(evaluator):
        errors["evaluator"] = [_("The evaluator must be a supervisor.")]
    if seed is not None and not 0 <= seed < 2**62:
        errors["seed"] = [_("A seed from 0 to 2^62.")]
    if errors:
        raise ValidationError(errors)
    seed = secrets.randbelow(2**31) if seed is None else seed
    zone = timezone.get_current_timezone()
    # Both must see a call: a worklist never hands another team's head calls (recordings, the
    # caller, the client) that the role matrix keeps from them.
    calls = queries.evaluable_calls(actor).filter(
        pk__in=queries.evaluable_calls(evaluator).values("pk"),
        started_at__gte=dt.datetime.combine(start, dt.time.min, zone),
        started_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, zone),
    )
    if queue:
        calls = calls.filter(queue=queue)
    done = Evaluation.objects.filter(scorecard=scorecard).values("call_id")
    by_operator: dict[int, list[int]] = {}
    for user_id, call_id in (
        calls.exclude(pk__in=done).order_by("user_id", "id").values_list("user_id", "id")
    ):
        by_operator.setdefault(user_id, []).append(call_id)
    chosen = _draw(by_operator, seed, per_operator, percent)
    sample = Sample(
        scorecard=scorecard,
        created_by=actor,
        evaluator=evaluator,
        start=start,
        end=end,
        queue=queue,
        per_operator=per_operator,
        percent=percent,
        seed=seed,
    )
    try:
        with transaction.atomic():
            sample.save()
            rows = Call.objects.filter(pk__in=chosen).only("id", "user_id", "started_at")
            sample.drawn = len([_new_evaluation(c, scorecard, evaluator, sample) for c in rows])
            sample.save(update_fields=["drawn"])
            audit.record(actor, "create", sample, calls=sample.drawn, seed=seed)
    except IntegrityError:  # a sample drawn at the same moment took some of these calls
        raise ValidationError(
            {"scorecard": [_("Another sample took some of these calls just now; draw again.")]}
        ) from None
    return sample


def _draw(
    by_operator: dict[int, list[int]], seed: int, per_operator: int | None, percent: int | None
) -> list[int]:
    rng = random.Random(seed)  # nosec B311 - a reproducible draw, not a secret
    chosen: list[int] = []
    for user_id in sorted(by_operator):
        ids = by_operator[user_id]
        want = per_operator if per_operator is not None else -(-len(ids) * (percent or 0) // 100)
        chosen += rng.sample(ids, min(want, len(ids)))
    return chosen[:MAX_SAMPLE]


def _new_evaluation(
    call: Call, scorecard: Scorecard, evaluator: User, sample: Sample | None = None
) -> Evaluation:
    """A pending evaluation with a copy of the scorecard's criteria as they are now."""
    assert call.user_id is not None
    evaluation = Evaluation.objects.create(
        call=call,
        scorecard=scorecard,
        scorecard_version=scorecard.version,
        sample=sample,
        operator_id=call.user_id,
        evaluator=evaluator,
        call_started_at=call.started_at,
    )
    Answer.objects.bulk_create(
        Answer(
            evaluation=evaluation,
            position=c.position,
            label=c.label,
            kind=c.kind,
            max_score=c.max_score,
            weight=c.weight,
            critical=c.critical,
        )
        for c in scorecard.criteria.all()
    )
    return evaluation


def start_evaluation(actor: User, call: Call, scorecard: Scorecard) -> Evaluation:
    """Evaluate one call from its card: the existing evaluation on this scorecard, or a new one."""
    access.require_runs_centre(actor)
    if not queries.evaluable_calls(actor).filter(pk=call.pk).exists():
        raise ValidationError({"call": [_("Only answered calls with a recording are evaluated.")]})
    if not scorecard.is_active or scorecard.deleted_at is not None:
        raise ValidationError({"scorecard": [_("This scorecard is not in use.")]})
    existing = Evaluation.objects.filter(call=call, scorecard=scorecard).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            evaluation = _new_evaluation(call, scorecard, actor)
            audit.record(actor, "create", evaluation)
    except IntegrityError:  # someone started it a moment ago
        return Evaluation.objects.get(call=call, scorecard=scorecard)
    return evaluation


# --- scoring a call ---------------------------------------------------------------------------


@dataclass
class ScoreIn:
    answer_id: int
    score: int | None  # None: not applicable
    comment: str = ""


def _check_scores(
    evaluation: Evaluation, answers: dict[int, Answer], scores: list[ScoreIn], submit: bool
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for index, row in enumerate(scores):
        answer = answers.get(row.answer_id)
        key = f"scores.{index}"
        if answer is None or row.answer_id in seen:
            errors[f"{key}.answer_id"] = [
                _("Row %(n)d: there is no such criterion on this evaluation.") % {"n": index + 1}
            ]
            continue
        seen.add(row.answer_id)
        if row.score is not None and not 0 <= row.score <= answer.max_score:
            errors[f"{key}.score"] = [
                _("%(label)s: a score from 0 to %(max)d.")
                % {"label": answer.label, "max": answer.max_score}
            ]
        if len(row.comment) > MAX_TEXT:
            errors[f"{key}.comment"] = [_("At most %(n)d characters.") % {"n": MAX_TEXT}]
    if submit and not errors:
        given = {row.answer_id: row.score for row in scores}
        if all(given.get(pk, answer.score) is None for pk, answer in answers.items()):
            errors["scores"] = [_("Score at least one criterion before submitting.")]
    return errors


def save_evaluation(
    actor: User,
    evaluation: Evaluation,
    expected_version: int | None,
    *,
    scores: list[ScoreIn],
    comment: str = "",
    submit: bool = False,
) -> Evaluation:
    """Save the scores (a draft) or submit them; the total is computed here, never sent."""
    access.require_runs_centre(actor)
    mine = evaluation.operator_id == actor.pk
    if mine or not queries.visible_evaluations(actor).filter(pk=evaluation.pk).exists():
        raise permissions.Denied(Action.EDIT)
    with transaction.atomic():
        row = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        check_version(row, expected_version)
        if row.state == Evaluation.State.SUBMITTED:
            raise ValidationError({"state": [_("This evaluation is submitted: it is final.")]})
        answers = {a.pk: a for a in row.answers.all()}
        errors = _check_scores(row, answers, scores, submit)
        if len(comment) > MAX_TEXT:
            errors["comment"] = [_("At most %(n)d characters.") % {"n": MAX_TEXT}]
        if errors:
            raise ValidationError(errors)
        for item in scores:
            answer = answers[item.answer_id]
            answer.score, answer.comment = item.score, item.comment.replace("\x00", "").strip()
        Answer.objects.bulk_update(list(answers.values()), ["score", "comment"])
        result = scoring.total(answers.values())
        row.total, row.critical_failed = result.percent, result.critical_failed
        row.comment = comment.replace("\x00", "").strip()
        row.evaluator = actor
        if submit:
            row.state = Evaluation.State.SUBMITTED
            row.submitted_at = timezone.now()
        row.version += 1
        row.save()
        if submit:
            audit.record(actor, "update", row, submitted=True, total=str(row.total))
    return row


def reply(actor: User, evaluation: Evaluation, answer: str, comment: str = "") -> Evaluation:
    """The operator acknowledges their submitted evaluation or disputes it (with a comment)."""
    if evaluation.operator_id != actor.pk or evaluation.state != Evaluation.State.SUBMITTED:
        raise permissions.Denied(Action.EDIT)
    errors: dict[str, list[str]] = {}
    if answer not in (Evaluation.Reply.ACKNOWLEDGED, Evaluation.Reply.DISPUTED):
        errors["reply"] = [_("Acknowledge or dispute.")]
    comment = comment.replace("\x00", "").strip()
    if answer == Evaluation.Reply.DISPUTED and not comment:
        errors["comment"] = [_("Say what you dispute.")]
    if len(comment) > MAX_TEXT:
        errors["comment"] = [_("At most %(n)d characters.") % {"n": MAX_TEXT}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        row.reply, row.reply_comment, row.replied_at = answer, comment, timezone.now()
        row.version += 1
        row.save(update_fields=["reply", "reply_comment", "replied_at", "version", "updated_at"])
        audit.record(actor, "update", row, reply=answer)
    return row
