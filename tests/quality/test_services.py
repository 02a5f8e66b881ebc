"""Scorecards, samples and evaluations through the services: versions keep past scores, draws
are reproducible, bad input is refused naming the row, and nothing half-written stays."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kartoteka.core.errors import StaleVersion
from kartoteka.core.permissions import Denied
from kartoteka.quality import services
from kartoteka.quality.models import Criterion, Evaluation, Sample, Scorecard
from kartoteka.quality.services import CriterionIn, ScoreIn
from tests.quality.conftest import T0, make_call, two_criteria

pytestmark = pytest.mark.django_db
DAY = T0.date()


def draw(helen, scorecard, **extra):
    extra.setdefault("per_operator", 2)
    return services.draw_sample(
        helen, scorecard=scorecard, evaluator=helen, start=DAY, end=DAY, **extra
    )


def score(helen, evaluation, values, submit=True):
    answers = list(evaluation.answers.all())
    scores = [ScoreIn(a.pk, v) for a, v in zip(answers, values, strict=True)]
    return services.save_evaluation(
        helen, evaluation, evaluation.version, scores=scores, submit=submit
    )


def test_weights_must_be_positive_and_errors_name_the_row(helen):
    rows = [CriterionIn("Greeting", weight=1), CriterionIn("Empathy", weight=0)]
    with pytest.raises(ValidationError) as caught:
        services.save_scorecard(helen, None, name="X", is_active=True, criteria=rows)
    assert caught.value.message_dict["criteria.1.weight"][0].startswith("Row 2:")
    rows = [CriterionIn("", weight=1), CriterionIn("Scale", weight=1, kind="scale", max_score=99)]
    with pytest.raises(ValidationError) as caught:
        services.save_scorecard(helen, None, name="X", is_active=True, criteria=rows)
    assert set(caught.value.message_dict) == {"criteria.0.label", "criteria.1.max_score"}
    assert not Scorecard.objects.exists()


def test_editing_a_scorecard_keeps_past_totals(helen, olga, scorecard):
    call = make_call(olga)
    evaluation = services.start_evaluation(helen, call, scorecard)
    done = score(helen, evaluation, [1, 2])
    assert done.total == Decimal("62.50") and done.scorecard_version == 1
    # A new version: other weights, a critical criterion, one removed.
    services.save_scorecard(
        helen,
        scorecard,
        name="Basic v2",
        is_active=True,
        criteria=[CriterionIn("Greeting", weight=10, critical=True)],
        expected_version=1,
    )
    done.refresh_from_db()
    assert done.total == Decimal("62.50")
    assert [(a.label, a.weight) for a in done.answers.all()] == [
        ("Greeting", 1),
        ("Solved the issue", 3),
    ]
    later = services.start_evaluation(helen, make_call(olga), Scorecard.objects.get())
    assert later.scorecard_version == 2 and later.answers.count() == 1
    with pytest.raises(StaleVersion):
        services.save_scorecard(
            helen, scorecard, name="x", is_active=True, criteria=two_criteria(), expected_version=1
        )


def test_sampling_is_reproducible_and_takes_only_recorded_answered_calls(
    helen, olga, oleg, scorecard
):
    good = [make_call(olga, T0 + dt.timedelta(minutes=i)) for i in range(6)]
    good += [make_call(oleg, T0 + dt.timedelta(minutes=i)) for i in range(3)]
    excluded = [
        make_call(olga, recording_url=""),
        make_call(olga, recording_url="javascript:alert(1)"),
        make_call(olga, answered_at=None, status="missed"),
        make_call(olga, T0 - dt.timedelta(days=2)),
        make_call(olga, queue="support"),
    ]
    first = draw(helen, scorecard, seed=42, queue="sales")
    drawn = set(Evaluation.objects.filter(sample=first).values_list("call_id", flat=True))
    assert first.drawn == 4 and drawn <= {c.pk for c in good}
    assert not drawn & {c.pk for c in excluded}
    # The same seed over the same calls draws the same ones.
    Evaluation.objects.all().delete()
    again = draw(helen, scorecard, seed=42, queue="sales")
    assert set(Evaluation.objects.filter(sample=again).values_list("call_id", flat=True)) == drawn
    # Calls already evaluated on this scorecard are not drawn again.
    more = draw(helen, scorecard, seed=7, queue="sales")
    second = set(Evaluation.objects.filter(sample=more).values_list("call_id", flat=True))
    assert not second & drawn and more.drawn == 3
    assert Sample.objects.get(pk=first.pk).seed == 42


def test_a_percent_sample_and_its_checks(helen, olga, alice, scorecard):
    for i in range(10):
        make_call(olga, T0 + dt.timedelta(minutes=i))
    assert draw(helen, scorecard, per_operator=None, percent=25).drawn == 3  # ceil(2.5)
    with pytest.raises(ValidationError) as caught:
        draw(helen, scorecard, per_operator=5, percent=5)
    assert "per_operator" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.draw_sample(
            helen, scorecard=scorecard, evaluator=alice, start=DAY, end=DAY, per_operator=1
        )
    assert "evaluator" in caught.value.message_dict
    with pytest.raises(Denied):
        draw(olga, scorecard)


def test_scores_out_of_range_or_of_another_evaluation_are_refused(helen, olga, scorecard):
    first = services.start_evaluation(helen, make_call(olga), scorecard)
    other_card = services.save_scorecard(
        helen, None, name="Other", is_active=True, criteria=[CriterionIn("Other", weight=1)]
    )
    other = services.start_evaluation(helen, make_call(olga), other_card)
    answers = list(first.answers.all())
    foreign = other.answers.get()
    for bad, key in (
        ([ScoreIn(answers[1].pk, 5)], "scores.0.score"),
        ([ScoreIn(answers[0].pk, -1)], "scores.0.score"),
        ([ScoreIn(foreign.pk, 1)], "scores.0.answer_id"),
        ([ScoreIn(answers[0].pk, 1), ScoreIn(answers[0].pk, 0)], "scores.1.answer_id"),
    ):
        with pytest.raises(ValidationError) as caught:
            services.save_evaluation(helen, first, first.version, scores=bad, submit=True)
        assert key in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.save_evaluation(helen, first, first.version, scores=[], submit=True)
    assert "scores" in caught.value.message_dict
    first.refresh_from_db()
    assert first.state == "pending" and first.version == 1 and first.total is None
    assert not first.answers.filter(score__isnull=False).exists()


def test_draft_then_submit_then_final(helen, olga, scorecard):
    evaluation = services.start_evaluation(helen, make_call(olga), scorecard)
    draft = score(helen, evaluation, [1, None], submit=False)
    assert draft.state == "pending" and draft.total == Decimal("100.00")
    with pytest.raises(StaleVersion):
        score(helen, evaluation, [0, 0])  # the version read before the draft
    done = score(helen, draft, [1, 4])
    assert done.state == "submitted" and done.submitted_at is not None
    with pytest.raises(ValidationError):
        score(helen, done, [0, 0])
    assert services.start_evaluation(helen, done.call, scorecard).pk == done.pk


def test_operators_cannot_evaluate_and_reply_only_to_their_own(helen, olga, oleg, scorecard):
    evaluation = services.start_evaluation(helen, make_call(olga), scorecard)
    with pytest.raises(Denied):
        score(olga, evaluation, [1, 1])
    with pytest.raises(Denied):
        services.reply(olga, evaluation, "acknowledged")  # not submitted yet
    done = score(helen, evaluation, [1, 1])
    with pytest.raises(Denied):
        services.reply(oleg, done, "acknowledged")
    with pytest.raises(ValidationError) as caught:
        services.reply(olga, done, "disputed", "  ")
    assert "comment" in caught.value.message_dict
    replied = services.reply(olga, done, "disputed", "The client hung up first")
    assert replied.reply == "disputed" and replied.total == done.total


def test_calls_without_a_recording_cannot_be_evaluated(helen, olga, scorecard):
    for url in ("", "javascript:alert(1)", "data:audio/wav;base64,AAAA"):
        with pytest.raises(ValidationError):
            services.start_evaluation(helen, make_call(olga, recording_url=url), scorecard)
    assert not Evaluation.objects.exists()
    assert Criterion.objects.count() == 2


def test_a_sample_racing_another_is_refused_whole(helen, olga, scorecard, monkeypatch):
    taken = make_call(olga)
    services.start_evaluation(helen, taken, scorecard)
    free = make_call(olga)
    # As if another sample took `taken` between this one's read and its write.
    monkeypatch.setattr(services, "_draw", lambda *args: [free.pk, taken.pk])
    with pytest.raises(ValidationError) as caught:
        draw(helen, scorecard)
    assert "scorecard" in caught.value.message_dict
    assert not Sample.objects.exists() and Evaluation.objects.count() == 1
