"""Contact-frequency rules (who is out of rule, per manager; automatic tasks, made once) and
the team report (done, overdue, postponed per person and period)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kartoteka.activities.services import log_interaction
from kartoteka.clients import services as client_services
from kartoteka.clients.models import Tag
from kartoteka.core.permissions import Denied
from kartoteka.planner import rules, services
from kartoteka.planner.models import ContactRule, Task
from kartoteka.planner.team_report import team_report
from tests.api import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def vip(db):
    return Tag.objects.create(name="VIP")


@pytest.fixture
def clients(alice, bob, vip):
    def person(owner, name, tagged=True):
        made = client_services.create_client(owner, "person", {"last_name": name, "owner": owner})
        if tagged:
            made.tags.add(vip)
        return made

    called = person(alice, "Called")
    log_interaction(
        alice, called, {"kind": "call", "occurred_at": timezone.now() - dt.timedelta(days=3)}
    )
    mailed = person(alice, "Mailed")
    log_interaction(
        alice, mailed, {"kind": "email", "occurred_at": timezone.now() - dt.timedelta(days=1)}
    )
    return {
        "called": called,
        "mailed": mailed,
        "never": person(bob, "Never"),
        "other": person(bob, "Untagged", False),
    }


@pytest.fixture
def rule(admin, vip):
    return rules.save_rule(
        admin,
        None,
        {
            "name": "VIP monthly call",
            "every_days": 30,
            "interaction_kinds": ["call"],
            "criteria": {"tags": [vip.pk]},
            "auto_task": True,
        },
    )


def test_out_of_rule_counts_only_the_rules_kinds(rule, clients):
    names = set(rules.out_of_rule(rule).values_list("last_name", flat=True))
    assert names == {"Mailed", "Never"}  # an e-mail is not a call; untagged is not covered


def test_report_per_manager_within_what_the_user_sees(rule, alice, helen, clients):
    assert rules.report(alice, rule) == [{"owner_id": alice.pk, "owner": "Alice", "count": 1}]
    by_owner = {r["owner"]: r["count"] for r in rules.report(helen, rule)}
    assert by_owner == {"Alice": 1, "Bob": 1}


def test_automatic_tasks_are_made_once(rule, alice, bob, clients):
    assert rules.create_rule_tasks() == 2
    assert rules.create_rule_tasks() == 0  # idempotent while the tasks are open
    task = Task.objects.get(assignee=bob)
    assert list(task.links.values_list("client_id", flat=True)) == [clients["never"].pk]
    services.cancel_task(bob, task, task.version)
    assert rules.create_rule_tasks() == 1  # closed without a contact: a new one


def test_rules_need_the_configure_right_and_valid_criteria(alice, admin):
    with pytest.raises(Denied):
        rules.save_rule(alice, None, {"name": "x", "every_days": 3})
    with pytest.raises(ValidationError) as info:
        rules.save_rule(
            admin, None, {"name": "x", "every_days": 3, "criteria": {"_connector": ["OR"]}}
        )
    assert "criteria" in info.value.message_dict
    with pytest.raises(ValidationError):
        rules.save_rule(admin, None, {"name": "x", "every_days": 0})
    assert not ContactRule.objects.exists()


def test_rules_page(alice_client, rule, clients, client, admin):
    page = alice_client.get("/tasks/rules/").content.decode()
    assert "VIP monthly call" in page and "rule-form" not in page
    assert alice_client.post("/tasks/rules/", {"name": "x", "every_days": 3}).status_code == 403
    drill = alice_client.get(f"/tasks/rules/{rule.pk}/clients/").content.decode()
    assert "Mailed" in drill and "Never" not in drill  # bob's client is not alice's to see
    client.force_login(admin)
    answer = client.post(
        "/tasks/rules/",
        {"name": "Leads weekly", "every_days": 7, "stage": ["lead"], "task_kind": "call"},
    )
    assert answer.status_code == 302
    assert ContactRule.objects.get(name="Leads weekly").criteria == {"stage": ["lead"]}


def test_team_report(alice, bob, helen, make_task):
    now = timezone.now()
    done = make_task(title="done")
    services.complete_task(alice, done, done.version)
    make_task(title="late", due_at=now - dt.timedelta(hours=2))
    later = make_task(actor=bob, title="later")
    services.postpone_task(bob, later, later.version, later.due_at + dt.timedelta(days=1), "busy")
    today = timezone.localdate()
    rows = {r["name"]: r for r in team_report(helen, today - dt.timedelta(days=1), today)}
    assert (rows["Alice"]["done"], rows["Alice"]["overdue"], rows["Alice"]["postponed"]) == (
        1,
        1,
        0,
    )
    assert rows["Bob"]["postponed"] == 1
    assert set(r["name"] for r in team_report(alice, today, today)) == {"Alice"}
    api = Api(helen).get("/reports/tasks", {"start": str(today), "end": str(today)})
    assert api.status_code == 200 and len(api.json()["items"]) == 2
    assert (
        Api(helen)
        .get("/reports/tasks", {"start": str(today), "end": str(today - dt.timedelta(days=3))})
        .status_code
        == 422
    )


def test_team_report_page(helen_client):
    page = helen_client.get("/tasks/report/")
    today = timezone.localdate()
    assert page.status_code == 200
    html = page.content.decode()  # the period applied is the one shown
    assert f'value="{today.replace(day=1).isoformat()}"' in html
    assert f'value="{today.isoformat()}"' in html
    assert helen_client.get("/tasks/report/?start=2026-05-01&end=2026-01-01").status_code == 422


def _rule(admin, criteria):
    fields = {"name": "r", "every_days": 30, "interaction_kinds": ["call"], "criteria": criteria}
    return rules.save_rule(admin, None, fields)


def test_rules_by_segment_and_by_class(admin, alice, bob, clients):
    """ "Clients of this segment / class / tag": segments (static and dynamic) and ABC/XYZ."""
    from kartoteka.segments import services as segment_services
    from kartoteka.segments.models import ClientClass, SegmentMember

    static = segment_services.create(alice, name="Key", kind="static", rules={})
    SegmentMember.objects.create(segment=static, client=clients["mailed"])
    dynamic = segment_services.create(
        alice,
        name="Bob's",
        kind="dynamic",
        rules={"match": "all", "conditions": [{"field": "owner", "op": "eq", "value": bob.pk}]},
    )
    by_segment = _rule(admin, {"segment": [static.pk, dynamic.pk]})
    assert set(rules.out_of_rule(by_segment).values_list("last_name", flat=True)) == {
        "Mailed",
        "Never",
        "Untagged",
    }
    ClientClass.objects.create(client=clients["never"], abc="A", xyz="X", cycle="active")
    ClientClass.objects.create(client=clients["called"], abc="A", xyz="Z", cycle="active")
    by_class = _rule(admin, {"abc": ["A", ""], "xyz": ["X", "Q"]})
    assert list(rules.out_of_rule(by_class).values_list("last_name", flat=True)) == ["Never"]
    nobody = _rule(admin, {"segment": [999999]})
    assert not rules.out_of_rule(nobody).exists()


def test_rule_form_takes_segments_and_classes(client, admin, alice, clients):
    from kartoteka.segments import services as segment_services

    segment = segment_services.create(admin, name="Key", kind="static", rules={})
    client.force_login(admin)
    answer = client.post(
        "/tasks/rules/",
        {
            "name": "Key accounts",
            "every_days": 14,
            "segment": [segment.pk],
            "abc": ["A"],
            "xyz": ["X", "Y"],
            "task_kind": "call",
        },
    )
    assert answer.status_code == 302
    saved = ContactRule.objects.get(name="Key accounts").criteria
    assert saved == {"segment": [segment.pk], "abc": ["A"], "xyz": ["X", "Y"]}
    bad = client.post(
        "/tasks/rules/", {"name": "x", "every_days": 3, "abc": ["Q"], "task_kind": "call"}
    )
    assert bad.status_code == 422 and "abc" in bad.content.decode()
