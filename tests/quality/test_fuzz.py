"""Random garbage at the quality API's writes: never a 500, and a refusal changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartoteka.quality.models import Answer, Criterion, Evaluation, Sample, Scorecard
from tests.api import Api
from tests.quality.conftest import make_call

pytestmark = pytest.mark.django_db
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=2),
)


def state() -> tuple:
    return (
        list(Scorecard.all_objects.values_list("pk", "version", "name")),
        Criterion.objects.count(),
        list(Evaluation.objects.values_list("pk", "version", "state", "total")),
        list(Answer.objects.values_list("pk", "score", "comment")),
        Sample.objects.count(),
    )


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "name": JUNK,
            "criteria": st.one_of(
                JUNK,
                st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "label": JUNK,
                            "weight": JUNK,
                            "kind": JUNK,
                            "max_score": JUNK,
                            "critical": JUNK,
                        },
                    ),
                    max_size=3,
                ),
            ),
            "version": JUNK,
            "owner_id": JUNK,
        },
    )
)
def test_scorecard_writes(helen, body):
    api = Api(helen)
    card = Scorecard.objects.filter(name="Fixed").first()
    if card is None:
        body_ok = {"name": "Fixed", "criteria": [{"label": "A", "weight": 1}]}
        card = Scorecard.objects.get(pk=api.post("/quality/scorecards", body_ok).json()["id"])
    before = state()
    for response in (
        api.post("/quality/scorecards", body),
        api.send("put", f"/quality/scorecards/{card.pk}", body, {}),
    ):
        assert response.status_code < 500, response.content
        if response.status_code >= 400:
            assert state() == before
        before = state()


@FUZZ
@given(
    scores=st.one_of(
        JUNK,
        st.lists(
            st.fixed_dictionaries({}, optional={"answer_id": JUNK, "score": JUNK, "comment": JUNK}),
            max_size=3,
        ),
    ),
    extra=st.dictionaries(st.sampled_from(["total", "state", "submit", "version"]), JUNK),
)
def test_evaluation_writes(helen, olga, scorecard, scores, extra):
    row = Evaluation.objects.first()
    if row is None:
        from kartoteka.quality import services

        row = services.start_evaluation(helen, make_call(olga), scorecard)
    before = state()
    body = {"scores": scores, "version": row.version, **extra}
    response = Api(helen).send("put", f"/quality/evaluations/{row.pk}", body, {})
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert state() == before
