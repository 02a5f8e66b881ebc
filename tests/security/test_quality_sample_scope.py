"""A sample's worklist goes to an evaluator: it never holds calls the evaluator's role may not see
(a head of another team would get the Sales team's recordings and callers)."""

from __future__ import annotations

import pytest

from kartoteka.accounts.models import Team
from kartoteka.quality import queries, services
from kartoteka.quality.models import Evaluation
from tests.conftest import make_user
from tests.quality.conftest import T0, make_call, olga, scorecard  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_a_head_cannot_hand_their_teams_calls_to_another_teams_head(helen, olga, scorecard):  # noqa: F811
    carl = make_user("carl", role="head")
    Team.objects.create(name="Other", head=carl).members.add(carl)
    make_call(olga)
    day = T0.date()
    sample = services.draw_sample(
        helen, scorecard=scorecard, evaluator=carl, start=day, end=day, per_operator=5
    )
    assert sample.drawn == 0 and not Evaluation.objects.exists()
    assert not queries.visible_evaluations(carl).exists()
    mine = services.draw_sample(
        helen, scorecard=scorecard, evaluator=helen, start=day, end=day, per_operator=5
    )
    assert mine.drawn == 1
