"""The audit log: what is recorded, the hash chain, verify, and the card-view alert."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from kartoteka.clients import services
from kartoteka.core import audit
from kartoteka.core.models import AuditEntry, Notification
from tests.conftest import PASSWORD


def test_logins_and_failures_are_recorded(client, alice):
    client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor_name"))
    assert actions == [("login_failed", "alice"), ("login", "alice")]


def test_card_views_deletes_and_reassignments_are_recorded(alice_client, alice, helen):
    person = services.create_client(alice, "person", {"last_name": "Иванов"})
    alice_client.get(reverse("clients:card", args=[person.pk]))
    services.update_client(helen, person, person.version, {"owner": helen})
    services.trash_client(helen, person)
    rows = list(
        AuditEntry.objects.exclude(action="login")
        .order_by("id")
        .values_list("action", "actor_name", "target_id")
    )
    assert rows == [
        ("card_view", "alice", str(person.pk)),
        ("reassign", "helen", str(person.pk)),
        ("delete", "helen", str(person.pk)),
    ]


def test_chain_verifies_and_names_the_first_broken_entry(alice, capsys):
    entries = [audit.record(alice, "export", kind="client", rows=i) for i in range(5)]
    assert audit.verify() is None
    call_command("audit", "verify")
    assert "OK" in capsys.readouterr().out
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_append_only"
            )
        cursor.execute(
            "UPDATE core_auditentry SET details = %s WHERE id = %s", ['{"rows": 99}', entries[2].pk]
        )
    assert audit.verify().pk == entries[2].pk
    with pytest.raises(SystemExit):
        call_command("audit", "verify")
    assert str(entries[2].pk) in capsys.readouterr().err


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgres_refuses_changes(alice):
    from django.db import DatabaseError, transaction

    entry = audit.record(alice, "export")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="login")


def test_many_card_views_alert_administrators_once(alice_client, alice, admin, settings):
    settings.AUDIT_CARD_VIEWS_PER_HOUR = 3
    person = services.create_client(alice, "person", {"last_name": "Иванов"})
    for _ in range(5):
        alice_client.get(reverse("clients:card", args=[person.pk]))
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["admin"]
