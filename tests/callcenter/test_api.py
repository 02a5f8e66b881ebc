"""/api/v1/calls and /api/v1/operators: reads scoped by role, writes versioned, refusals named."""

from __future__ import annotations

import pytest

from kartoteka.callcenter import services
from kartoteka.callcenter.models import BreakReason, Call, Disposition
from tests.api import Api
from tests.callcenter.conftest import event

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(olga, oleg, django_capture_on_commit_callbacks) -> list[Call]:
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(event("answered", "a", extension="101"))
        services.handle_event(event("ended", "a", seconds=30))
        services.handle_event(event("answered", "b", extension="102", seconds=60))
        services.handle_event(event("ringing", "c", extension="999", seconds=90))
        services.handle_event(event("ended", "c", seconds=95))
    return list(Call.objects.order_by("call_id"))


def ids(response) -> list[str]:
    return sorted(Call.objects.get(pk=i["id"]).call_id for i in response.json()["items"])


def test_an_operator_sees_his_calls(olga, calls):
    api = Api(olga.user)
    assert ids(api.get("/calls")) == ["a"]
    assert api.get(f"/calls/{calls[1].pk}").status_code == 404


def test_a_head_sees_the_teams_and_unassigned(helen, calls):
    assert ids(Api(helen).get("/calls")) == ["a", "b", "c"]


def test_a_manager_of_another_team_sees_none_of_them(carol, calls):
    assert ids(Api(carol).get("/calls")) == []


def test_filters_and_pages(admin, calls):
    api = Api(admin)
    assert ids(api.get("/calls", {"status": "lost"})) == ["c"]
    first = api.get("/calls", {"limit": 2}).json()
    second = api.get("/calls", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert api.get("/calls", {"cursor": "x"}).json()["detail"][0]["loc"] == ["query", "cursor"]
    assert api.get("/calls", {"owner__password": "a"}).status_code == 422
    assert api.get("/calls", {"status": "bogus"}).status_code == 422


def test_patch_needs_the_version(olga, calls):
    sale = Disposition.objects.create(name="sale")
    api = Api(olga.user)
    call = calls[0]
    read = api.get(f"/calls/{call.pk}")
    assert read["ETag"] == f'"{call.version}"' and read.json()["talk_seconds"] == 30
    assert api.patch(f"/calls/{call.pk}", {"summary": "x"}).status_code == 428
    stale = api.patch(f"/calls/{call.pk}", {"summary": "x", "version": call.version - 1})
    assert stale.status_code == 412
    ok = api.patch(
        f"/calls/{call.pk}",
        {"summary": "ok", "disposition_id": sale.pk},
        **{"If-Match": read["ETag"]},
    )
    assert ok.status_code == 200 and ok.json()["disposition"] == "sale"
    assert Call.objects.get(pk=call.pk).summary == "ok"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"disposition_id": 999999}, ["body", "disposition_id"]),
        ({"client_id": 999999}, ["body", "client_id"]),
        ({"user_id": 1}, ["body", "user_id"]),
        ({"status": "ended"}, ["body", "status"]),
        ({"summary": "a\x00b"}, ["body", "summary"]),
    ],
)
def test_patch_refusals_name_the_field_and_change_nothing(olga, calls, body, loc):
    call = calls[0]
    response = Api(olga.user).patch(f"/calls/{call.pk}", {**body, "version": call.version})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc
    assert Call.objects.get(pk=call.pk).version == call.version


def test_an_operator_cannot_patch_anothers_call(olga, calls):
    call = calls[1]
    response = Api(olga.user).patch(f"/calls/{call.pk}", {"summary": "x", "version": call.version})
    assert response.status_code == 404 and Call.objects.get(pk=call.pk).summary == ""


def test_my_status(olga):
    api = Api(olga.user)
    assert api.get("/operators/me").json()["status"] == "available"
    lunch = BreakReason.objects.create(name="lunch")
    missing = api.post("/operators/me/status", {"status": "break"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "break_reason_id"]
    ok = api.post("/operators/me/status", {"status": "break", "break_reason_id": lunch.pk})
    assert ok.status_code == 200 and ok.json()["status"] == "break"
    assert api.post("/operators/me/status", {"status": "on_call"}).status_code == 422


def test_without_an_extension_my_status_is_404(alice):
    assert Api(alice).get("/operators/me").status_code == 404


def test_dial(olga, settings, monkeypatch):
    from kartoteka.callcenter.providers.webhook.provider import WebhookProvider

    placed: list = []
    monkeypatch.setattr(WebhookProvider, "originate", lambda self, e, n: placed.append((e, n)))
    settings.TELEPHONY_PROVIDER = "webhook"
    api = Api(olga.user)
    assert api.post("/calls/dial", {"number": "8 916 123 45 67"}).json() == {
        "number": "+79161234567"
    }
    bad = api.post("/calls/dial", {"number": "nope"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "number"]
    assert placed == [("101", "+79161234567")]


def test_the_api_needs_a_token():
    assert Api(None).get("/calls").status_code == 401


def test_the_board_for_a_head_and_not_for_an_operator(
    helen, olga, oleg, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from tests.callcenter.conftest import make_operator

    make_operator("otto", "301")  # in no team
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(event("ringing", "r", extension="101"))
        services.handle_event(event("queued", "q", queue="sales", at=timezone.now()))
    board = Api(helen).get("/operators/board").json()
    assert [(o["extension"], o["status"]) for o in board["operators"]] == [
        ("101", "ringing"),
        ("102", "available"),
    ]
    assert board["operators"][0]["call_id"] == Call.objects.get(call_id="r").pk
    assert [(q["name"], q["count"]) for q in board["queues"]] == [("sales", 1)]
    assert Api(olga.user).get("/operators/board").status_code == 403
