"""The pages: console, screen pop, call card, calls list, board, callbacks report, settings."""

from __future__ import annotations

import pytest

from kartoteka.callcenter import services
from kartoteka.callcenter.models import BreakReason, Call, Disposition, Operator, Queue
from kartoteka.clients import services as client_services
from kartoteka.clients.services import PhoneIn
from tests.callcenter.conftest import event

pytestmark = pytest.mark.django_db


@pytest.fixture
def ringing(olga, django_capture_on_commit_callbacks) -> Call:
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(event("ringing", extension="101", queue="sales", ivr={"menu": "3"}))
    return Call.objects.get()


@pytest.fixture
def ended(ringing, django_capture_on_commit_callbacks) -> Call:
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(event("answered", extension="101", seconds=5))
        services.handle_event(event("ended", seconds=65))
    return Call.objects.get()


def test_console_shows_the_current_call(client, olga, ivan, ringing):
    client.force_login(olga.user)
    page = client.get("/calls/console/").content.decode()
    assert 'id="call-pop"' in page and "Ivanov Ivan" in page and "menu: 3" in page


def test_console_without_an_extension(alice_client):
    page = alice_client.get("/calls/console/").content.decode()
    assert "You have no extension" in page


def test_pop_of_an_unknown_number_offers_a_new_client(client, olga, ringing):
    client.force_login(olga.user)
    page = client.get(f"/calls/{ringing.pk}/pop/").content.decode()
    assert 'id="pop-create"' in page and "phone=%2B79161234567" in page


def test_the_new_client_form_takes_the_number(client, olga):
    client.force_login(olga.user)
    page = client.get("/clients/new/person/?phone=%2B79161234567").content.decode()
    assert 'value="+79161234567"' in page


def test_pop_lists_several_matches_and_links_one(client, olga, alice, ringing):
    people = [
        client_services.create_client(
            alice, "person", {"last_name": name}, phones=[PhoneIn("+79161234567")]
        )
        for name in ("Petrov", "Petrova")
    ]
    Call.objects.update(client=None)
    client.force_login(olga.user)
    page = client.get(f"/calls/{ringing.pk}/pop/").content.decode()
    assert 'id="pop-matches"' in page and "Petrov" in page and "Petrova" in page
    response = client.post(f"/calls/{ringing.pk}/client/", {"client": people[1].pk})
    assert response.status_code == 302
    assert Call.objects.get().client == people[1]


def test_the_call_card_saves_result_and_summary(client, olga, ivan, ended):
    sale = Disposition.objects.create(name="sale")
    client.force_login(olga.user)
    page = client.get(f"/calls/{ended.pk}/").content.decode()
    assert 'id="wait">0:05' in page and 'id="talk">1:00' in page
    response = client.post(
        f"/calls/{ended.pk}/",
        {"disposition": sale.pk, "summary": "<b>quote</b>", "version": ended.version},
    )
    assert response.status_code == 302
    call = Call.objects.get()
    assert call.disposition == sale and call.summary == "<b>quote</b>"
    page = client.get(f"/clients/{ivan.pk}/").content.decode()
    assert "&lt;b&gt;quote&lt;/b&gt;" in page and "<b>quote</b>" not in page


def test_a_stale_card_is_409_and_unchanged(client, olga, ended):
    client.force_login(olga.user)
    response = client.post(f"/calls/{ended.pk}/", {"summary": "late", "version": 1})
    assert response.status_code == 409
    assert Call.objects.get().summary == ""


def test_the_recording_plays_from_its_server_only(client, olga, ended):
    Call.objects.update(recording_url="https://pbx.example.com/rec/1.mp3")
    client.force_login(olga.user)
    response = client.get(f"/calls/{ended.pk}/")
    assert "media-src 'self' https://pbx.example.com" in response["Content-Security-Policy"]
    assert 'src="https://pbx.example.com/rec/1.mp3"' in response.content.decode()


def test_another_operators_call_is_404(client, oleg, ringing):
    client.force_login(oleg.user)
    assert client.get(f"/calls/{ringing.pk}/").status_code == 404
    assert client.get(f"/calls/{ringing.pk}/pop/").status_code == 404
    response = client.post(f"/calls/{ringing.pk}/", {"summary": "x", "version": 1})
    assert response.status_code == 404 and Call.objects.get().summary == ""


def test_status_switcher(client, olga):
    lunch = BreakReason.objects.create(name="lunch")
    client.force_login(olga.user)
    client.post("/calls/console/status/", {"status": "break", "break_reason": lunch.pk})
    olga.refresh_from_db()
    assert (olga.status, olga.break_reason) == ("break", lunch)
    response = client.post("/calls/console/status/", {"status": "on_call"}, follow=True)
    olga.refresh_from_db()
    assert olga.status == "break" and "Select a valid choice" in response.content.decode()


def test_calls_list_pages_by_keyset(client, olga, django_capture_on_commit_callbacks, settings):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(7):
            services.handle_event(event("answered", f"k{i}", extension="101", seconds=i))
    client.force_login(olga.user)
    first = client.get("/calls/?status=answered")
    assert first.content.decode().count('class="call-row') == 7
    response = client.get("/calls/?cursor=garbage")
    assert response.status_code == 400


def test_the_board_is_for_supervisors(client, helen, olga, oleg, ringing):
    Call.objects.create(
        provider="webhook",
        call_id="q",
        status="queued",
        queue="sales",
        started_at=ringing.started_at,
    )
    client.force_login(helen)
    page = client.get("/calls/board/").content.decode()
    assert 'data-extension="101"' in page and 'data-extension="102"' in page
    assert "Ringing" in page or "ringing" in page
    client.force_login(olga.user)
    assert client.get("/calls/board/").status_code == 403


def test_the_board_hides_other_teams(client, helen, carol):
    from tests.callcenter.conftest import make_operator

    make_operator("otto", "301")  # no team
    client.force_login(helen)
    assert 'data-extension="301"' not in client.get("/calls/board/").content.decode()


def test_callbacks_report(client, helen, olga, ivan, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(event("ringing", "m1", extension="101"))
        services.handle_event(event("ended", "m1", seconds=10))
    client.force_login(helen)
    response = client.get("/calls/callbacks/?start=2026-11-30&end=2026-12-02")
    page = response.content.decode()
    assert response.status_code == 200 and "not yet" in page and "Alice" in page
    bad = client.get("/calls/callbacks/?start=2026-12-02&end=2026-11-30")
    assert bad.status_code == 422


def test_settings_are_for_administrators(client, admin, alice, olga):
    client.force_login(alice)
    assert client.get("/calls/settings/").status_code == 403
    assert client.post("/calls/settings/results/", {"results-name": "x"}).status_code == 403
    seeded = Disposition.objects.count()  # the results a new installation starts with
    assert not Disposition.objects.filter(name="x").exists()
    client.force_login(admin)
    assert client.get("/calls/settings/").status_code == 200
    client.post("/calls/settings/results/", {"results-name": "sale", "results-position": 1})
    client.post("/calls/settings/breaks/", {"breaks-name": "lunch", "breaks-limit_minutes": 30})
    client.post(
        "/calls/settings/queues/", {"queues-name": "sales", "queues-callback_user": alice.pk}
    )
    response = client.post(
        "/calls/settings/operators/", {"operators-user": alice.pk, "operators-extension": "101"}
    )
    assert response.status_code == 422  # 101 is olga's
    sale = Disposition.objects.get(name="sale")
    assert Disposition.objects.count() == seeded + 1
    client.post(f"/calls/settings/results/{sale.pk}/toggle/")
    sale.refresh_from_db()
    assert not sale.is_active and BreakReason.objects.get(name="lunch").limit_minutes == 30
    assert Queue.objects.get().callback_user == alice
    assert Operator.objects.count() == 1


def test_dial_button_on_the_client_card(client, olga, ivan, settings, monkeypatch):
    from kartoteka.callcenter.providers.webhook.provider import WebhookProvider

    placed: list = []
    monkeypatch.setattr(WebhookProvider, "originate", lambda self, e, n: placed.append((e, n)))
    settings.TELEPHONY_PROVIDER = "webhook"
    client.force_login(olga.user)
    page = client.get(f"/clients/{ivan.pk}/").content.decode()
    assert 'class="d-inline dial-form"' in page
    response = client.post(
        "/calls/dial/", {"number": "+79161234567", "next": f"/clients/{ivan.pk}/"}
    )
    assert response.status_code == 302 and response["Location"] == f"/clients/{ivan.pk}/"
    assert placed == [("101", "+79161234567")]
    evil = client.post("/calls/dial/", {"number": "+79161234567", "next": "//evil.example"})
    assert evil["Location"] == "/calls/console/"


def test_ring_all_pops_for_every_operator_rung(
    client, olga, oleg, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(event("ringing", "all", extension="101"))
        services.handle_event(event("ringing", "all", extension="102"))
    call = Call.objects.get()
    assert call.user == oleg.user  # the last one rung, for now
    client.force_login(olga.user)
    assert client.get(f"/calls/{call.pk}/pop/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        services.handle_event(event("answered", "all", extension="102", seconds=2))
    olga.refresh_from_db()
    assert olga.status == "available"
    assert client.get(f"/calls/{call.pk}/pop/").status_code == 404  # oleg's call now


def test_a_head_sets_a_team_operators_status_but_not_others(client, helen, olga, carol):
    from kartoteka.callcenter.statuses import may_set
    from tests.callcenter.conftest import make_operator

    otto = make_operator("otto", "301")
    assert may_set(helen, olga) and not may_set(helen, otto) and not may_set(carol, olga)
