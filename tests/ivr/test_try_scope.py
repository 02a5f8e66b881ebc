""" "Try it" (the editor's page and POST /api/v1/ivr/menus/{id}/walk) reads the real CRM as the
editor may: a head of another team typing a client's phone or deal number hears nothing of that
client's deals, while an administrator (who sees every client) hears them."""

from __future__ import annotations

import pytest

from kartoteka.accounts.models import Team
from tests.api import Api
from tests.callcenter.conftest import IVAN_PHONE
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def carl(db):
    chief = make_user("carl", role="head")
    Team.objects.create(name="Other", head=chief).members.add(chief)
    return chief


def walk(user, menu, deal) -> str:
    body = {"caller": IVAN_PHONE, "inputs": ["1", "1", str(deal.pk)]}
    answer = Api(user).post(f"/ivr/menus/{menu.pk}/walk", body)
    assert answer.status_code == 200, answer.content
    return " ".join(s["text"] for step in answer.json()["steps"] for s in step["say"])


def test_the_walk_api_answers_only_of_clients_the_editor_sees(admin, carl, menu, deal):
    assert f"Deal {deal.pk}: {deal.stage.name}." in walk(admin, menu, deal)
    hidden = walk(carl, menu, deal)
    assert deal.stage.name not in hidden and "20.12.2026" not in hidden


def test_the_try_panel_answers_only_of_clients_the_editor_sees(client, admin, carl, menu, deal):
    def transcript(user) -> str:
        client.force_login(user)
        client.post(f"/ivr/{menu.pk}/try/", {"press": "start", "caller": IVAN_PHONE})
        for digits in ("1", "1", str(deal.pk)):
            page = client.post(f"/ivr/{menu.pk}/try/", {"digits": digits, "caller": IVAN_PHONE})
        return page.content.decode()

    assert "20.12.2026" in transcript(admin)
    assert "20.12.2026" not in transcript(carl)
