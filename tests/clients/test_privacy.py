"""Personal data: the consent ledger, subject requests, erasure and retention."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kartoteka.activities.models import Interaction
from kartoteka.activities.services import log_interaction
from kartoteka.clients import privacy, services
from kartoteka.clients.models import Client, ClientEvent, RetentionRule
from kartoteka.clients.search import search
from kartoteka.clients.services import EmailIn, PhoneIn
from kartoteka.core.models import AuditEntry


@pytest.fixture
def person(alice):
    client = services.create_client(
        alice,
        "person",
        {"last_name": "Рябов", "first_name": "Иван", "passport": "4500 123456"},
        phones=[PhoneIn("+79161234567")],
        emails=[EmailIn("ivan@example.ru")],
    )
    services.update_client(alice, client, client.version, {"middle_name": "Петрович"})
    log_interaction(
        alice, client, {"kind": "purchase", "amount": "1500", "currency": "RUB", "summary": "Чай"}
    )
    return client


def test_consent_given_then_withdrawn(person, alice):
    assert not privacy.may_contact(person, "email")
    privacy.record_consent(alice, person, "email", True, "web form", text_version="v3")
    assert privacy.may_contact(person, "email")
    assert not privacy.may_contact(person, "email", purpose="service")
    privacy.record_consent(alice, person, "email", False, "unsubscribe link")
    assert not privacy.may_contact(person, "email")
    assert person.consents.count() == 2


def test_subject_request_has_everything(person, alice):
    privacy.record_consent(alice, person, "sms", True, "call")
    data = privacy.subject_request(alice, person)
    assert data["client"]["last_name"] == "Рябов" and data["client"]["passport"] == "4500 123456"
    assert data["phones"][0]["number"] == "+79161234567"
    assert data["interactions"][0]["summary"] == "Чай"
    assert data["consents"][0]["channel"] == "sms"
    assert any(e["verb"] == "updated" for e in data["history"])
    assert AuditEntry.objects.filter(action="subject_request", target_id=str(person.pk)).exists()


def test_subject_request_downloads(client, admin, person):
    client.force_login(admin)
    helen_client = client
    response = helen_client.get(reverse("clients:subject_request", args=[person.pk, "json"]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["client"]["last_name"] == "Рябов"
    pdf = helen_client.get(reverse("clients:subject_request", args=[person.pk, "pdf"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_subject_request_is_for_administrators(client, carol, helen, person):
    for user in (carol, helen):
        client.force_login(user)
        response = client.get(reverse("clients:subject_request", args=[person.pk, "json"]))
        assert response.status_code == 403


def test_erasure_removes_identity_everywhere_and_keeps_amounts(person, admin, alice):
    company = services.create_client(alice, "company", {"company_name": "Ромашка"})
    services.link_person(alice, person, company, "director")
    privacy.erase_client(admin, person, "request of the person")
    assert "Рябов" not in json.dumps(
        list(company.events.values_list("changes", flat=True)), ensure_ascii=False
    )
    person.refresh_from_db()
    assert person.erased_at is not None
    assert (person.first_name, person.middle_name, person.passport, person.primary_phone) == (
        "",
        "",
        "",
        "",
    )
    assert not person.phones.exists() and not person.emails.exists()
    assert "рябов" not in person.search_text and "7916" not in person.search_text
    assert list(search(Client.objects.all(), "рябов")) == []
    purchase = Interaction.objects.get(client=person)
    assert (purchase.amount, purchase.summary) == (1500, "")
    assert all(e.changes == {} for e in ClientEvent.objects.filter(client=person))
    entry = AuditEntry.objects.get(action="erase")
    assert entry.details == {"reason": "request of the person"}
    assert "Рябов" not in json.dumps(privacy.subject_data(person), ensure_ascii=False)


def test_erase_page_is_for_administrators_and_needs_confirmation(client, admin, helen, person):
    client.force_login(helen)
    assert (
        client.post(reverse("clients:erase", args=[person.pk]), {"confirm": "erase"}).status_code
        == 403
    )
    client.force_login(admin)
    client.post(reverse("clients:erase", args=[person.pk]), {"confirm": "no"})
    person.refresh_from_db()
    assert person.erased_at is None
    client.post(reverse("clients:erase", args=[person.pk]), {"confirm": "erase"})
    person.refresh_from_db()
    assert person.erased_at is not None


def test_retention_erases_old_trash_and_old_texts(person, alice, capsys):
    services.trash_client(alice, person)
    Client.all_objects.filter(pk=person.pk).update(
        deleted_at=timezone.now() - dt.timedelta(days=40)
    )
    other = services.create_client(alice, "person", {"last_name": "Свежий"})
    log_interaction(
        alice,
        other,
        {"kind": "note", "summary": "old", "occurred_at": timezone.now() - dt.timedelta(days=800)},
    )
    RetentionRule.objects.create(kind="trash", days=30)
    RetentionRule.objects.create(kind="timeline", days=730)
    call_command("retention", "apply", "--json")
    assert json.loads(capsys.readouterr().out) == {"trash": 1, "timeline": 1}
    assert Client.all_objects.get(pk=person.pk).erased_at is not None
    assert Client.objects.get(pk=other.pk).erased_at is None
    assert Interaction.objects.get(client=other).summary == ""


def test_retention_page(client, admin):
    client.force_login(admin)
    assert (
        client.post(reverse("clients:retention"), {"trash": "30", "timeline": ""}).status_code
        == 302
    )
    assert dict(RetentionRule.objects.values_list("kind", "days")) == {"trash": 30}
