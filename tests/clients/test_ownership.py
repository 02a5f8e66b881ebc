"""Reassigning clients: heads within their team, all or nothing, on the page and in the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kartoteka.clients import ownership, services
from kartoteka.clients.models import Client, ClientEvent
from kartoteka.core.models import AuditEntry
from tests.api import Api


@pytest.fixture
def clients(alice, bob, carol):
    mine = [services.create_client(alice, "person", {"last_name": f"А{i}"}) for i in range(3)]
    foreign = services.create_client(carol, "person", {"last_name": "Чужой"})
    return mine, foreign


def owners() -> dict[str, str | None]:
    return {
        c.last_name: c.owner.username if c.owner else None
        for c in Client.objects.select_related("owner")
    }


def test_head_reassigns_team_clients(helen, bob, clients):
    mine, _foreign = clients
    assert ownership.reassign_clients(helen, [c.pk for c in mine], bob) == 3
    assert {owners()[c.last_name] for c in mine} == {"bob"}
    event = ClientEvent.objects.filter(client=mine[0], verb="updated").get()
    assert event.changes == {"owner": ["Alice", "Bob"]}
    assert AuditEntry.objects.get(action="reassign").details["ids"] == sorted(c.pk for c in mine)


def test_mixed_batch_changes_nothing(helen, bob, clients):
    mine, foreign = clients
    before = owners()
    with pytest.raises(Exception, match=str(foreign.pk)):
        ownership.reassign_clients(helen, [*(c.pk for c in mine), foreign.pk], bob)
    assert owners() == before


def test_head_cannot_give_clients_to_another_team(helen, carol, clients):
    mine, _foreign = clients
    with pytest.raises(Exception, match="teams"):
        ownership.reassign_clients(helen, [mine[0].pk], carol)


def test_manager_cannot_reassign(alice, bob, clients):
    mine, _foreign = clients
    before = owners()
    with pytest.raises(Exception, match=str(mine[0].pk)):
        ownership.reassign_clients(alice, [mine[0].pk], bob)
    assert owners() == before


def test_list_page_bulk_action(helen_client, bob, clients):
    mine, foreign = clients
    page = helen_client.get(reverse("clients:list"))
    assert 'id="reassign-form"' in page.text
    helen_client.post(
        reverse("clients:reassign"), {"ids": [mine[0].pk, mine[1].pk], "owner": bob.pk}
    )
    assert [owners()[c.last_name] for c in mine] == ["bob", "bob", "alice"]
    helen_client.post(reverse("clients:reassign"), {"ids": [foreign.pk], "owner": bob.pk})
    assert owners()["Чужой"] == "carol"


def test_api_reassign(helen, bob, clients):
    mine, foreign = clients
    api = Api(helen)
    response = api.post("/clients/reassign", {"ids": [mine[2].pk], "owner_id": bob.pk})
    assert response.status_code == 200 and response.json() == {"reassigned": 1}
    refused = api.post("/clients/reassign", {"ids": [mine[0].pk, foreign.pk], "owner_id": bob.pk})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][-1] == "ids"
    assert owners()["А0"] == "alice"


def test_owner_change_is_judged_on_the_current_owner(alice, bob, carol, helen):
    """A head may not take a client from another team by editing it, nor give one away there."""
    from django.core.exceptions import ValidationError

    foreign = services.create_client(carol, "person", {"last_name": "Чужой"})
    with pytest.raises(ValidationError):
        services.update_client(helen, foreign, foreign.version, {"owner": helen})
    mine = services.create_client(alice, "person", {"last_name": "Свой"})
    with pytest.raises(ValidationError, match="assign"):
        services.update_client(helen, mine, mine.version, {"owner": carol})
    services.update_client(helen, mine, mine.version, {"owner": bob})
    assert Client.objects.get(pk=mine.pk).owner == bob


def test_api_reassign_refuses_ids_out_of_range(helen, bob, clients):
    response = Api(helen).post("/clients/reassign", {"ids": [2**63], "owner_id": bob.pk})
    assert response.status_code == 422
