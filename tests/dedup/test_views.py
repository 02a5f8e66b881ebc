"""The duplicates pages: queue, compare, merge, not a duplicate, merges, settings, the hint."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from kartoteka.clients.models import Client
from kartoteka.core.models import AuditEntry
from kartoteka.dedup import services
from kartoteka.dedup.models import Candidate, DedupSettings, Merge
from tests.dedup import person, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins(alice):
    a = person(alice, phones=("+79161234567",), middle_name="Петрович")
    b = person(alice, "Ryabov", "Ivan", phones=("8 916 123 45 67",), address="Москва")
    services.scan()
    return a, b


def test_queue_lists_own_pairs_with_reasons(alice_client, twins, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        page = alice_client.get(reverse("dedup:queue"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "same phone" in text and "name in another script" in text


def test_other_team_sees_nothing(client, carol, twins):
    client.force_login(carol)
    assert "Ryabov" not in client.get(reverse("dedup:queue")).content.decode()
    pair = Candidate.objects.get()
    assert client.get(reverse("dedup:compare", args=[pair.pk])).status_code == 404


def test_manager_compares_but_may_not_merge(alice_client, twins):
    a, b = twins
    pair = Candidate.objects.get()
    page = alice_client.get(reverse("dedup:compare", args=[pair.pk]))
    assert page.status_code == 200 and "may not merge" in page.content.decode()
    before = snapshot(a, b)
    data = {"survivor": "a", "version_a": a.version, "version_b": b.version}
    assert alice_client.post(reverse("dedup:merge", args=[pair.pk]), data).status_code == 403
    assert snapshot(a, b) == before


def test_head_merges_with_field_choices_then_unmerges(helen_client, twins):
    a, b = twins
    a.refresh_from_db()
    b.refresh_from_db()
    pair = Candidate.objects.get()
    data = {
        "survivor": "a",
        "field_address": "b",
        "version_a": a.version,
        "version_b": b.version,
    }
    answer = helen_client.post(reverse("dedup:merge", args=[pair.pk]), data)
    assert answer.status_code == 302 and answer.url == reverse("clients:card", args=[a.pk])
    a.refresh_from_db()
    assert a.address == "Москва" and Client.all_objects.get(pk=b.pk).deleted_at
    record = Merge.objects.get()
    assert helen_client.get(reverse("dedup:merges")).status_code == 200
    helen_client.post(reverse("dedup:unmerge", args=[record.pk]))
    assert Client.objects.filter(pk=b.pk).exists()


def test_stale_versions_are_refused(helen_client, twins):
    pair = Candidate.objects.get()
    data = {"survivor": "a", "version_a": 1, "version_b": 999}
    helen_client.post(reverse("dedup:merge", args=[pair.pk]), data)
    assert not Merge.objects.exists()


def test_not_a_duplicate(alice_client, twins):
    pair = Candidate.objects.get()
    assert alice_client.post(reverse("dedup:dismiss", args=[pair.pk])).status_code == 302
    assert Candidate.objects.get().status == "dismissed"
    assert alice_client.get(reverse("dedup:dismiss", args=[pair.pk])).status_code == 405


def test_settings_are_for_administrators(client, admin, alice_client):
    assert alice_client.get(reverse("dedup:settings")).status_code == 403
    assert (
        alice_client.post(
            reverse("dedup:settings"), {"auto_merge": "on", "threshold": "0.9"}
        ).status_code
        == 403
    )
    assert DedupSettings.current().auto_merge is False  # off by default, unchanged
    client.force_login(admin)
    assert (
        client.post(reverse("dedup:settings"), {"auto_merge": "on", "threshold": "2"}).status_code
        == 422
    )
    client.post(reverse("dedup:settings"), {"auto_merge": "on", "threshold": "0.9"})
    assert DedupSettings.current().auto_merge is True
    assert AuditEntry.objects.filter(action="configure", target_kind="dedup_settings").exists()


def test_automatic_merge_only_for_exact_matches(admin, alice):
    services.save_settings(admin, True, 0.8)
    exact_a = person(alice, emails=("ivan@example.com",), birthday="1980-05-17")
    exact_b = person(alice, emails=("IVAN@example.com",), birthday="1980-05-17")
    fuzzy_a = person(alice, "Сидоров", "Олег", phones=("+79035550000",), birthday="1970-01-01")
    fuzzy_b = person(alice, "Sidorof", "Oleg", phones=("+79035550000",), birthday="1970-01-01")
    result = services.scan()
    assert result.merged == 1
    assert Merge.objects.get().loser_id == exact_b.pk and Merge.objects.get().automatic
    assert Client.objects.filter(pk__in=[fuzzy_a.pk, fuzzy_b.pk]).count() == 2
    assert Client.objects.filter(pk=exact_a.pk).exists()


def test_the_hint_while_typing(alice_client, twins):
    a, _b = twins
    data = {"last_name": "Рябов", "first_name": "Иван", "phone-0-number": "+7 916 123-45-67"}
    answer = alice_client.post(reverse("dedup:check", args=["person"]), data)
    assert (
        answer.status_code == 200
        and reverse("clients:card", args=[a.pk]) in answer.content.decode()
    )
    nothing = alice_client.post(reverse("dedup:check", args=["person"]), {"last_name": "Зуев"})
    assert "This looks like" not in nothing.content.decode()


def test_edit_page_asks_for_the_hint(alice_client, twins):
    a, _b = twins
    page = alice_client.get(reverse("clients:edit", args=[a.pk])).content.decode()
    assert reverse("dedup:check", args=["person"]) + f"?exclude={a.pk}" in page


def test_cli_scan_json(alice, capsys):
    a = person(alice, phones=("+79161234567",))
    b = person(alice, "Иван", "Рябов", phones=("+79161234567",))
    call_command("dedup", "scan", "--json")
    out = json.loads(capsys.readouterr().out)
    (pair,) = out["pairs"]
    assert (pair["a"], pair["b"]) == (a.pk, b.pk) and "names_swapped" in pair["reasons"]
    assert 0 < pair["score"] <= 1
    assert set(out["phases"]) == {"read", "fold", "match", "store"}  # seconds of each step
    call_command("dedup", "scan", "--dry-run")
    assert "1 likely duplicate pairs" in capsys.readouterr().out


def test_cli_reindex(alice, capsys):
    from kartoteka.dedup.models import ClientKey

    person(alice)
    ClientKey.objects.all().delete()
    call_command("dedup", "reindex")
    assert ClientKey.objects.count() == 2
