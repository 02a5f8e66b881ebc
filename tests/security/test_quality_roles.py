"""A read-only role (analyst: views every call, edits none) reads evaluations but never writes
scorecards, samples or scores; every denied request leaves the database as it was."""

from __future__ import annotations

import pytest

from kartoteka.quality import services
from kartoteka.quality.models import Evaluation, Scorecard
from tests.api import Api
from tests.conftest import make_user
from tests.quality.conftest import T0, make_call, olga, scorecard  # noqa: F401 - fixtures
from tests.quality.test_api import CARD

pytestmark = pytest.mark.django_db


def test_an_analyst_reads_but_does_not_evaluate(client, helen, olga, scorecard):  # noqa: F811
    analyst = make_user("ann", role="analyst")
    call = make_call(olga)
    started = services.start_evaluation(helen, call, scorecard)
    client.force_login(analyst)
    assert client.get(f"/quality/{started.pk}/").status_code == 200  # reads the team's
    day = T0.date().isoformat()
    posts = {
        "/quality/scorecards/new/": {"name": "Mine", "is_active": "on"},
        f"/quality/scorecards/{scorecard.pk}/delete/": {},
        "/quality/sample/": {"scorecard": scorecard.pk, "start": day, "end": day},
        f"/quality/calls/{call.pk}/": {"scorecard": scorecard.pk},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code in (403, 404), url
    api = Api(analyst).post("/quality/scorecards", CARD)
    assert api.status_code == 403
    assert Scorecard.objects.count() == 1 and Scorecard.objects.get().deleted_at is None
    assert Evaluation.objects.count() == 1
    with pytest.raises(Exception, match="edit"):
        services.start_evaluation(analyst, make_call(olga), scorecard)
