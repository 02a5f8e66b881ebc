"""Exports of the client list: rights, field rules, formula injection, limits and approval."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client as Browser
from django.urls import reverse

from kartoteka.accounts.models import Role
from kartoteka.clients import services
from kartoteka.clients.services import PhoneIn
from kartoteka.core.models import AuditEntry, Notification
from kartoteka.transfer import services as exports
from kartoteka.transfer.models import Export
from tests.api import Api

FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.fixture
def clients(alice, carol):
    mine = [
        services.create_client(
            alice, "person", {"last_name": name}, phones=[PhoneIn(f"+7916123456{i}")]
        )
        for i, name in enumerate(FORMULAS)
    ]
    services.create_client(carol, "person", {"last_name": "Чужой"})
    return mine


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_export_own_clients_as_csv_with_formulas_neutralised(alice_client, alice, clients):
    response = alice_client.post(
        reverse("export_new"), {"query": "col=name&col=phone", "format": "csv"}
    )
    assert response.status_code == 302
    export = Export.objects.get()
    assert (export.rows, export.status) == (len(FORMULAS), "approved")
    rows = read_csv(alice_client.get(reverse("export_download", args=[export.pk])))
    assert rows[0] == ["name", "phone"]
    names = sorted(r[0] for r in rows[1:])
    assert "Чужой" not in names
    assert all(n.startswith("'") for n in names), names
    assert AuditEntry.objects.get(action="export").details["rows"] == len(FORMULAS)
    again = alice_client.get(reverse("export_download", args=[export.pk]))
    assert again.status_code == 403  # downloaded once


def test_xlsx_export(alice_client, clients):
    alice_client.post(reverse("export_new"), {"query": "", "format": "xlsx"})
    response = alice_client.get(reverse("export_download", args=[Export.objects.get().pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"PK")


def test_hidden_fields_are_not_exported(client, db, clients):
    from tests.conftest import make_user

    marketer = make_user("mark", role="marketer")
    Role.objects.filter(code="marketer").update(export_daily_rows=1000)
    marketer.role.field_rules.create(field="contacts", access="hidden")
    client.force_login(marketer)
    client.post(reverse("export_new"), {"query": "col=name&col=phone", "format": "csv"})
    rows = read_csv(client.get(reverse("export_download", args=[Export.objects.get().pk])))
    assert rows[0] == ["name"]


def test_roles_without_export_right_are_refused(client, db, clients):
    from tests.conftest import make_user

    analyst = make_user("ann", role="analyst")
    client.force_login(analyst)
    assert client.post(reverse("export_new"), {"query": "", "format": "csv"}).status_code == 403
    assert not Export.objects.exists()


def test_over_the_limit_waits_for_the_head(alice_client, alice, helen, admin, clients):
    Role.objects.filter(code="manager").update(export_daily_rows=3)
    alice_client.post(reverse("export_new"), {"query": "", "format": "csv"})
    export = Export.objects.get()
    assert export.status == "pending"
    assert alice_client.get(reverse("export_download", args=[export.pk])).status_code == 403
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"helen", "admin"}
    head = Browser()
    head.force_login(helen)
    assert export in head.get(reverse("exports")).context["pending"]
    head.post(reverse("export_decide", args=[export.pk]), {"decision": "approve"})
    export.refresh_from_db()
    assert export.status == "approved" and export.decided_by == helen
    assert alice_client.get(reverse("export_download", args=[export.pk])).status_code == 200


def test_only_the_head_or_an_admin_decides(alice_client, bob, clients, client):
    Role.objects.filter(code="manager").update(export_daily_rows=1)
    alice_client.post(reverse("export_new"), {"query": "", "format": "csv"})
    export = Export.objects.get()
    client.force_login(bob)
    assert (
        client.post(reverse("export_decide", args=[export.pk]), {"decision": "approve"}).status_code
        == 403
    )
    export.refresh_from_db()
    assert export.status == "pending"


def test_near_the_limit_alerts_admins(alice_client, admin, clients):
    Role.objects.filter(code="manager").update(export_daily_rows=len(FORMULAS) + 1)
    alice_client.post(reverse("export_new"), {"query": "", "format": "csv"})
    assert Notification.objects.filter(user=admin, text__contains="alice").exists()


def test_bad_filters_are_named(alice_client, clients):
    response = alice_client.post(
        reverse("export_new"), {"query": "sort=owner__password", "format": "csv"}, follow=True
    )
    assert "Cannot sort by" in response.text
    assert not Export.objects.exists()


def test_api_export(alice, clients):
    api = Api(alice)
    created = api.post("/exports", {"query": "col=name", "format": "csv"})
    assert created.status_code == 201 and created.json()["rows"] == len(FORMULAS)
    download = api.get(f"/exports/{created.json()['id']}/download")
    assert download.status_code == 200
    assert api.post("/exports", {"query": "", "format": "pdf"}).status_code == 422
    assert api.post("/exports", {"query": "", "format": "csv", "owner": 1}).status_code == 422


def test_limit_counts_the_day(alice, clients):
    Role.objects.filter(code="manager").update(export_daily_rows=10)
    exports.request_export(alice, "", "csv")
    assert exports.used_today(alice) == len(FORMULAS)
