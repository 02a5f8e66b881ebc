"""An out-of-range id in a multiple choice ("9"*60 overflows a database integer) is a field error
on the form, not a 500 — the planner's rule and task forms and the administrator's user and team
forms, as for call scripts' queues (core.forms.IdsChoiceField)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kartoteka.accounts.models import Role, User
from kartoteka.planner.models import ContactRule, Task

pytestmark = pytest.mark.django_db

HUGE = "9" * 60


def _field_error(response, field: str) -> None:
    assert response.status_code in (200, 422), response.status_code
    assert field in response.context["form"].errors


@pytest.mark.parametrize("field", ["segment", "tags", "owner"])
def test_contact_rule_form(client, admin, field):
    client.force_login(admin)
    body = {"name": "Key", "every_days": 14, "task_kind": "call", field: [HUGE]}
    _field_error(client.post("/tasks/rules/", body), field)
    assert not ContactRule.objects.exists()


def test_task_participants(alice_client, alice):
    body = {
        "kind": "meeting",
        "title": "Plan",
        "assignee": alice.pk,
        "participants": [HUGE],
        "duration_minutes": 30,
        "priority": 2,
        "repeat_interval": 1,
    }
    _field_error(alice_client.post("/tasks/new/", body), "participants")
    assert not Task.objects.exists()


def test_user_and_team_forms(client, admin, sales):
    client.force_login(admin)
    role = Role.objects.get(code="operator")
    user = {"username": "olga", "role": role.pk, "teams": [HUGE], "is_active": "on"}
    _field_error(client.post(reverse("users"), user), "teams")
    assert not User.objects.filter(username="olga").exists()
    edit = {"role": role.pk, "teams": [HUGE], "is_active": "on"}
    _field_error(client.post(reverse("user_edit", args=[admin.pk]), edit), "teams")
    team = {"name": "Sales", "members": [HUGE]}
    _field_error(client.post(reverse("team_edit", args=[sales.pk]), team), "members")
