"""Quick actions on the card: log a call or a note without a page reload."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kartoteka.activities.models import Interaction
from kartoteka.clients import services


@pytest.fixture
def person(alice):
    return services.create_client(alice, "person", {"last_name": "Иванов"})


def test_log_a_call_returns_the_timeline(alice_client, person):
    url = reverse("clients:log", args=[person.pk, "call"])
    response = alice_client.post(
        url,
        {
            "call-direction": "out",
            "call-minutes": "2.5",
            "call-result": "Перезвонить",
            "call-summary": "Обсудили",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Перезвонить" in response.text and 'id="form-call"' in response.text
    call = Interaction.objects.get()
    assert (call.kind, call.duration_seconds, call.direction) == ("call", 150, "out")


def test_bad_note_is_refused(alice_client, person):
    response = alice_client.post(
        reverse("clients:log", args=[person.pk, "note"]), {"note-summary": ""}
    )
    assert response.status_code == 422
    assert not Interaction.objects.exists()


def test_any_interaction_form(alice_client, person):
    response = alice_client.post(
        reverse("clients:log", args=[person.pk, "any"]),
        {"any-kind": "purchase", "any-amount": "100", "any-currency": "XXX"},
    )
    assert response.status_code == 422
    assert "Unknown currency" in response.text
    assert not Interaction.objects.exists()


def test_logging_for_a_missing_client_is_404(alice_client):
    assert (
        alice_client.post(
            reverse("clients:log", args=[999999, "note"]), {"note-summary": "x"}
        ).status_code
        == 404
    )


def test_unknown_form_is_404(alice_client, person):
    assert (
        alice_client.post(reverse("clients:log", args=[person.pk, "x<b>"]), {}).status_code == 404
    )


def test_card_has_unique_element_ids(alice_client, person):
    import re
    from collections import Counter

    html = alice_client.get(reverse("clients:card", args=[person.pk])).text
    ids = Counter(re.findall(r'\bid="([^"]+)"', html))
    assert [i for i, n in ids.items() if n > 1] == []
