"""Administrator pages: users, teams, the role matrix, the audit log — and nobody else sees them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from kartoteka.accounts.models import Grant, Role, Team, User
from kartoteka.core.models import AuditEntry

PAGES = ["users", "teams", "roles", "audit"]


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


@pytest.mark.parametrize("page", PAGES)
def test_only_administrators_open_settings(alice_client, helen_client, page):
    assert alice_client.get(reverse(page)).status_code == 403
    assert helen_client.get(reverse(page)).status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_administrator_opens_settings(admin_client, page):
    assert admin_client.get(reverse(page)).status_code == 200


def test_add_user_with_role_and_team(admin_client, sales):
    role = Role.objects.get(code="operator")
    response = admin_client.post(
        reverse("users"),
        {
            "username": "olga",
            "role": role.pk,
            "teams": [sales.pk],
            "password": "a-long-enough-pass-42",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    olga = User.objects.get(username="olga")
    assert olga.role == role and list(olga.teams.all()) == [sales]
    assert AuditEntry.objects.filter(action="user_change", target_id=str(olga.pk)).exists()


def test_weak_password_is_refused(admin_client):
    role = Role.objects.get(code="operator")
    response = admin_client.post(
        reverse("users"), {"username": "olga", "role": role.pk, "password": "123"}
    )
    assert response.status_code == 422
    assert not User.objects.filter(username="olga").exists()


def test_role_matrix_edit_is_audited(admin_client):
    role = Role.objects.get(code="manager")
    page = admin_client.get(reverse("role_matrix", args=[role.pk]))
    data = {f"{g.kind}.{g.action}": g.scope for g in role.grants.all()}
    data["client.delete"] = 1
    data["field.income"] = "hidden"
    admin_client.post(reverse("role_matrix", args=[role.pk]), data)
    assert Grant.objects.get(role=role, kind="client", action="delete").scope == 1
    assert role.field_rules.get(field="income").access == "hidden"
    entry = AuditEntry.objects.get(action="role_change")
    assert entry.details["changes"]["client.delete"] == [0, 1]
    assert page.status_code == 200


def test_role_matrix_refuses_unknown_values(admin_client):
    role = Role.objects.get(code="manager")
    admin_client.post(reverse("role_matrix", args=[role.pk]), {"client.view": "99"})
    assert Grant.objects.get(role=role, kind="client", action="view").scope == 1


def test_team_with_head(admin_client, alice, helen):
    response = admin_client.post(
        reverse("teams"), {"name": "Опт", "head": helen.pk, "members": [alice.pk]}
    )
    assert response.status_code == 302
    team = Team.objects.get(name="Опт")
    assert team.head == helen and list(team.members.all()) == [alice]


def test_audit_page_filters(admin_client, alice):
    from kartoteka.core import audit

    audit.record(alice, "export", kind="client", rows=10)
    audit.record(None, "login_failed", username="mallory")
    response = admin_client.get(reverse("audit"), {"action": "export"})
    assert "alice" in response.text and "mallory" not in response.text


def test_tokens_in_profile(alice_client, alice):
    response = alice_client.post(reverse("token_create"), {"name": "1C"})
    page = alice_client.get(reverse("profile"))
    token = alice.api_tokens.get()
    key = re.search(r'id="new-token">([^<]+)<', page.text).group(1)
    assert token.key_hash == type(token).hash(key)
    assert key not in alice_client.get(reverse("profile")).text  # shown once
    alice_client.post(reverse("token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None and response.status_code == 302
