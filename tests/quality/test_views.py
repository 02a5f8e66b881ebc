"""The quality pages: supervisors build, sample and evaluate; operators read their own submitted
evaluations and reply; everything else is 403/404 and changes nothing."""

from __future__ import annotations

import json

import pytest

from kartoteka.quality import services
from kartoteka.quality.models import Evaluation, Scorecard
from kartoteka.quality.services import ScoreIn
from tests.quality.conftest import RECORDING, T0, make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_helen(client, helen):
    client.force_login(helen)
    return client


def submitted(helen, call, scorecard, values=(1, 4)):
    evaluation = services.start_evaluation(helen, call, scorecard)
    scores = [ScoreIn(a.pk, v) for a, v in zip(evaluation.answers.all(), values, strict=True)]
    return services.save_evaluation(helen, evaluation, 1, scores=scores, submit=True)


def test_building_a_scorecard_in_the_form(as_helen):
    data = {
        "name": "Sales calls",
        "is_active": "on",
        "criteria-TOTAL_FORMS": "3",
        "criteria-INITIAL_FORMS": "0",
        "criteria-0-label": "Greeting",
        "criteria-0-kind": "yes_no",
        "criteria-0-weight": "1",
        "criteria-1-label": "",
        "criteria-1-kind": "yes_no",
        "criteria-2-label": "Empathy",
        "criteria-2-kind": "scale",
        "criteria-2-max_score": "5",
        "criteria-2-weight": "-2",
    }
    response = as_helen.post("/quality/scorecards/new/", data)
    assert response.status_code == 422
    assert "Row 3: the weight must be from 1 to 100." in response.content.decode()
    assert not Scorecard.objects.exists()
    data["criteria-2-weight"] = "2"
    response = as_helen.post("/quality/scorecards/new/", data)
    card = Scorecard.objects.get()
    assert response.status_code == 302 and card.criteria.count() == 2
    page = as_helen.get(f"/quality/scorecards/{card.pk}/").content.decode()
    assert 'value="Empathy"' in page
    stale = {**data, "version": "1", "name": "Renamed"}
    assert as_helen.post(f"/quality/scorecards/{card.pk}/", stale).status_code == 302
    assert as_helen.post(f"/quality/scorecards/{card.pk}/", stale).status_code == 409
    assert Scorecard.objects.get().version == 2


def test_operators_cannot_reach_the_supervisors_pages(client, olga, scorecard):
    client.force_login(olga)
    for url in ("/quality/scorecards/", "/quality/scorecards/new/", "/quality/sample/"):
        assert client.get(url).status_code == 403
    assert client.post(f"/quality/scorecards/{scorecard.pk}/delete/").status_code == 403
    assert client.post("/quality/sample/", {"scorecard": scorecard.pk}).status_code == 403
    assert Scorecard.objects.get().deleted_at is None


def test_sampling_from_the_page(as_helen, helen, olga, scorecard):
    make_call(olga)
    make_call(olga, recording_url="")
    day = T0.date().isoformat()
    form = {"scorecard": scorecard.pk, "start": day, "end": day, "evaluator": helen.pk}
    response = as_helen.post("/quality/sample/", {**form, "per_operator": "3", "seed": "5"})
    assert response.status_code == 302 and Evaluation.objects.count() == 1
    response = as_helen.post("/quality/sample/", {**form, "per_operator": "0"})
    assert response.status_code == 422 and Evaluation.objects.count() == 1
    worklist = as_helen.get("/quality/?mine=1&state=pending").content.decode()
    assert "Olga" in worklist


def test_the_evaluation_page_plays_the_recording_and_scores(as_helen, helen, olga, scorecard):
    evaluation = services.start_evaluation(
        helen, make_call(olga, summary="Wants a refund"), scorecard
    )
    response = as_helen.get(f"/quality/{evaluation.pk}/")
    page = response.content.decode()
    assert f'<audio controls preload="none" src="{RECORDING}"' in page
    assert "media-src 'self' https://pbx.example.com" in response["Content-Security-Policy"]
    assert "Wants a refund" in page
    a, b = evaluation.answers.all()
    post = {"version": "1", f"score-{a.pk}": "1", f"score-{b.pk}": "9", "action": "submit"}
    response = as_helen.post(f"/quality/{evaluation.pk}/", post)
    assert response.status_code == 422 and "a score from 0 to 4" in response.content.decode()
    post[f"score-{b.pk}"] = "abc"
    assert as_helen.post(f"/quality/{evaluation.pk}/", post).status_code == 422
    post[f"score-{b.pk}"] = "2"
    assert as_helen.post(f"/quality/{evaluation.pk}/", post).status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.state == "submitted" and str(evaluation.total) == "62.50"
    # Submitted is final, and a second post with the old version is refused.
    assert as_helen.post(f"/quality/{evaluation.pk}/", post).status_code == 403


def test_a_stale_evaluation_is_409(as_helen, helen, olga, scorecard):
    evaluation = services.start_evaluation(helen, make_call(olga), scorecard)
    a, _b = evaluation.answers.all()
    post = {"version": "1", f"score-{a.pk}": "1", "action": "save"}
    assert as_helen.post(f"/quality/{evaluation.pk}/", post).status_code == 302
    assert as_helen.post(f"/quality/{evaluation.pk}/", post).status_code == 409


def test_a_hostile_recording_url_is_never_rendered(as_helen, helen, olga, scorecard):
    call = make_call(olga)
    evaluation = services.start_evaluation(helen, call, scorecard)
    type(call).objects.filter(pk=call.pk).update(recording_url="javascript:alert(1)")
    response = as_helen.get(f"/quality/{evaluation.pk}/")
    page = response.content.decode()
    assert "javascript:" not in page and "<audio" not in page and 'id="no-recording"' in page
    assert "media-src" not in response["Content-Security-Policy"]


def test_operators_read_only_their_own_submitted_evaluations(client, helen, olga, oleg, scorecard):
    mine = submitted(helen, make_call(olga), scorecard)
    pending = services.start_evaluation(helen, make_call(olga), scorecard)
    theirs = submitted(helen, make_call(oleg), scorecard)
    client.force_login(olga)
    assert client.get(f"/quality/{theirs.pk}/").status_code == 404
    assert client.get(f"/quality/{pending.pk}/").status_code == 404
    page = client.get(f"/quality/{mine.pk}/").content.decode()
    assert 'id="evaluation-form"' not in page and 'id="reply-form"' in page
    listed = client.get("/quality/").content.decode()
    assert f'data-evaluation="{mine.pk}"' in listed
    assert f'data-evaluation="{theirs.pk}"' not in listed
    assert f'data-evaluation="{pending.pk}"' not in listed
    a, _b = mine.answers.all()
    post = {"version": str(mine.version), f"score-{a.pk}": "0", "action": "submit"}
    assert client.post(f"/quality/{mine.pk}/", post).status_code == 403
    assert client.post(f"/quality/{theirs.pk}/reply/", {"reply": "acknowledged"}).status_code == 404
    client.post(f"/quality/{mine.pk}/reply/", {"reply": "disputed", "comment": "Not fair"})
    mine.refresh_from_db()
    assert (
        mine.reply == "disputed"
        and mine.reply_comment == "Not fair"
        and str(mine.total) == "100.00"
    )


def test_the_call_card_shows_the_evaluation_and_offers_evaluate(
    as_helen, client, helen, olga, scorecard
):
    call = make_call(olga)
    page = as_helen.get(f"/calls/{call.pk}/").content.decode()
    assert 'id="evaluate-call"' in page
    response = as_helen.post(f"/quality/calls/{call.pk}/", {"scorecard": scorecard.pk})
    evaluation = Evaluation.objects.get()
    assert response["Location"] == f"/quality/{evaluation.pk}/"
    assert "Basic</a>: to evaluate" in as_helen.get(f"/calls/{call.pk}/").content.decode()
    client.force_login(olga)
    page = client.get(f"/calls/{call.pk}/").content.decode()
    assert 'id="evaluate-call"' not in page and 'id="call-quality"' not in page  # pending
    assert client.post(f"/quality/calls/{call.pk}/", {"scorecard": scorecard.pk}).status_code == 403


def test_scores_page_charts_and_drills(as_helen, client, helen, olga, oleg, scorecard):
    submitted(helen, make_call(olga), scorecard, (1, 4))
    submitted(helen, make_call(olga), scorecard, (0, 0))
    submitted(helen, make_call(oleg), scorecard, (1, 2))
    url = "/quality/scores/?start=2026-10-01&end=2026-11-30&grain=week"
    response = as_helen.get(url)
    page = response.content.decode()
    assert response.status_code == 200 and 'data-chart="scores-data"' in page
    chart = json.loads(
        page.split('id="scores-data" type="application/json">')[1].split("</script>")[0]
    )
    assert chart["labels"] == ["2026-11-02"]
    assert sorted(s["values"][0] for s in chart["series"]) == [50.0, 62.5]
    assert f"/quality/?operator={olga.pk}&amp;start=2026-10-01" in page
    old = submitted(helen, make_call(olga, T0.replace(year=2025)), scorecard)
    drill = as_helen.get(f"/quality/?operator={olga.pk}&start=2026-10-01&end=2026-11-30")
    assert drill.content.decode().count('class="evaluation-row"') == 2
    assert f'data-evaluation="{old.pk}"' not in drill.content.decode()
    breakdown = page.split('id="criteria-breakdown"')[1]
    assert breakdown.index("Greeting") < breakdown.index("Solved the issue")  # fails most
    client.force_login(olga)
    mine = client.get(url).content.decode()
    chart = json.loads(
        mine.split('id="scores-data" type="application/json">')[1].split("</script>")[0]
    )
    assert [s["label"] for s in chart["series"]] == ["Olga"]
    assert client.get("/quality/scores/?start=x&end=y&grain=week").status_code == 422
    assert (
        client.get("/quality/scores/?start=2026-10-01&end=2026-11-30&grain=day").status_code == 422
    )


def test_lists_and_pages_do_not_query_per_row(as_helen, helen, olga, oleg, scorecard):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert as_helen.get(url).status_code == 200
        return len(queries)

    url = "/quality/scores/?start=2026-10-01&end=2026-11-30&grain=month"
    submitted(helen, make_call(olga), scorecard)
    few = (count("/quality/"), count(url))
    for user in (olga, oleg, olga, oleg):
        submitted(helen, make_call(user), scorecard)
    assert (count("/quality/"), count(url)) == few
