"""Merge moves everything to the survivor; unmerge puts both back as they were."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kartoteka.clients import services as client_services
from kartoteka.clients.models import Client, ClientEvent
from kartoteka.core.errors import StaleVersion
from kartoteka.core.models import AuditEntry
from kartoteka.core.permissions import Denied
from kartoteka.dedup import merge as merging
from kartoteka.dedup import registry
from kartoteka.dedup.models import Candidate, Merge
from kartoteka.transfer.models import ImportChange, ImportJob
from tests.dedup import company, furnish, person, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(helen, alice):
    firm = company(alice, "Ромашка", inn="7707083893")
    a = person(
        alice, phones=("+7 916 123-45-67",), emails=("ivan@example.com",), middle_name="Петрович"
    )
    b = person(
        alice,
        "Ryabov",
        "Ivan",
        phones=("8 (916) 123-45-67", "+7 495 111-22-33"),
        emails=("IVAN2@example.com",),
        address="Москва",
    )
    furnish(a, alice, "VIP", firm)
    furnish(b, alice, "опт", firm)
    b.refresh_from_db()
    deal = b.deals.first()
    deal.contacts.add(a, b)
    job = ImportJob.objects.create(user=alice, entity="persons", filename="x.csv")
    ImportChange.objects.create(job=job, client=b, version=b.version, before={})
    a.refresh_from_db()
    b.refresh_from_db()
    return a, b


def test_merge_moves_everything_and_unmerge_restores_it(helen, pair):
    a, b = pair
    before = snapshot(a, b)
    record = merging.merge(helen, a, b, {"address": "b", "last_name": "a"})
    a.refresh_from_db()
    gone = Client.all_objects.get(pk=b.pk)
    assert gone.deleted_at is not None
    assert a.address == "Москва" and a.last_name == "Рябов"
    after = snapshot(a)[a.pk]
    assert sorted(after["tags"]) == ["VIP", "общий", "опт"]
    assert {e for _pk, e, *_ in after["phones"]} == {"+79161234567", "+74951112233"}
    assert len(after["emails"]) == 2
    assert set(after["interactions"]) == set(
        before[a.pk]["interactions"] + before[b.pk]["interactions"]
    )
    assert set(after["deals"]) == set(before[a.pk]["deals"] + before[b.pk]["deals"])
    assert set(after["consents"]) == set(before[a.pk]["consents"] + before[b.pk]["consents"])
    assert after["import_changes"] == before[b.pk]["import_changes"]
    assert len(after["jobs"]) == 2  # the loser's identical jobs were dropped, not doubled
    assert set(before[b.pk]["events"]) <= set(after["events"])
    assert AuditEntry.objects.filter(action="update", target_id=str(a.pk)).exists()
    assert ClientEvent.objects.filter(client=b, changes__merged_into=a.pk).exists()

    merging.unmerge(helen, record)
    assert snapshot(a, b) == before
    record.refresh_from_db()
    assert record.undone_at is not None


def test_refused_merge_changes_nothing(alice, pair):
    a, b = pair
    before = snapshot(a, b)
    with pytest.raises(Denied):
        merging.merge(alice, a, b)  # a manager may not merge
    assert snapshot(a, b) == before and not Merge.objects.exists()


def test_carol_may_not_merge_others_clients(carol, pair):
    a, b = pair
    with pytest.raises(Denied):
        merging.merge(carol, a, b)


def test_a_person_and_a_company_are_not_merged(helen, alice):
    p, c = person(alice), company(alice)
    with pytest.raises(ValidationError):
        merging.merge(helen, p, c)


def test_a_stale_read_is_refused(helen, pair):
    a, b = pair
    client_services.update_client(None, a, a.version, {"address": "elsewhere"})
    with pytest.raises(StaleVersion):
        merging.merge(helen, a, b)
    assert not Merge.objects.exists()


def test_unmerge_refused_after_the_survivor_changed(helen, pair):
    a, b = pair
    record = merging.merge(helen, a, b)
    a.refresh_from_db()
    client_services.update_client(None, a, a.version, {"address": "later"})
    with pytest.raises(StaleVersion):
        merging.unmerge(helen, record)
    assert Client.all_objects.get(pk=b.pk).deleted_at is not None


def test_merge_marks_the_pair(helen, pair):
    a, b = pair
    Candidate.objects.create(a=a, b=b, score=0.9, reasons=["phone"], cluster=a.pk)
    merging.merge(helen, a, b)
    assert Candidate.objects.get().status == Candidate.Status.MERGED


def test_registry_takes_one_line():
    before = list(registry.LINKS)
    link = registry.register("clients.Consent", "client")
    assert before == registry.LINKS and link in registry.LINKS


def test_merge_moves_tasks_and_unmerge_puts_them_back(helen, alice, pair):
    from kartoteka.planner import services as planner
    from kartoteka.planner.models import TaskLink

    a, b = pair[:2]
    only_b = planner.create_task(alice, {"title": "Call B"}, targets=planner.Targets([b]))
    both = planner.create_task(alice, {"title": "Meet both"}, targets=planner.Targets([a, b]))
    a.refresh_from_db()
    b.refresh_from_db()
    record = merging.merge(helen, a, b)
    assert set(TaskLink.objects.filter(client=a).values_list("task_id", flat=True)) == {
        only_b.pk,
        both.pk,
    }
    assert not TaskLink.objects.filter(client=b).exists()
    merging.unmerge(helen, record)
    assert set(TaskLink.objects.filter(client=b).values_list("task_id", flat=True)) == {
        only_b.pk,
        both.pk,
    }
    assert list(TaskLink.objects.filter(client=a).values_list("task_id", flat=True)) == [both.pk]


def test_every_registered_link_is_a_foreign_key_to_a_client():
    """What another app registers (the contact centre's calls, say) must name a real model and
    its key to the client, or merges would fail at run time."""
    for link in registry.LINKS:
        field = link.model_class()._meta.get_field(link.field)
        assert field.related_model is Client, link.name
        for name in link.unique_with:
            link.model_class()._meta.get_field(name)
