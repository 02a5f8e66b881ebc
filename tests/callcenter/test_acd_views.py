"""The ACD pages: the skills grid saved cell by cell, a queue's routing form; supervisors only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kartoteka.accounts.models import Grant, Role
from kartoteka.callcenter.acd_models import OperatorSkill, QueueOverflow, QueueRouting, Skill
from kartoteka.callcenter.models import Queue
from tests.callcenter.acd_cast import give

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def english_skill(olga, oleg) -> Skill:
    return Skill.objects.create(name="English")


@pytest.fixture
def boss(client, admin):
    client.force_login(admin)
    return client


def post_cell(client, op, skill, level, version=0):
    data = {"operator": op.pk, "skill": skill.pk, "level": level, "version": version}
    return client.post(reverse("callcenter:acd_cell"), data, headers=HTMX)


def test_the_grid_shows_operators_by_skills(
    boss, olga, oleg, english_skill, django_assert_max_num_queries
):
    give(olga, english_skill, 7)
    with django_assert_max_num_queries(14):
        page = boss.get(reverse("callcenter:acd"))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="skills-matrix"' in html
    assert f'id="cell-{olga.pk}-{english_skill.pk}"' in html and 'value="7"' in html
    assert reverse("callcenter:acd") in boss.get(reverse("callcenter:console")).content.decode()


def test_a_cell_is_saved_and_cleared(boss, olga, english_skill):
    saved = post_cell(boss, olga, english_skill, "8")
    assert saved.status_code == 200 and 'value="8"' in saved.content.decode()
    assert 'name="version" value="1"' in saved.content.decode()
    assert OperatorSkill.objects.get().level == 8
    cleared = post_cell(boss, olga, english_skill, "", version=1)
    assert cleared.status_code == 200 and not OperatorSkill.objects.exists()


@pytest.mark.parametrize("level", ["0", "11", "²", "9" * 30, "-1", "1.5", "<b>5</b>"])
def test_a_bad_level_names_the_cell(boss, olga, english_skill, level):
    response = post_cell(boss, olga, english_skill, level)
    html = response.content.decode()
    assert response.status_code == 422
    assert "101 Olga × English" in html and "from 1 to 10" in html
    assert "<b>5</b>" not in html  # escaped when shown back
    assert not OperatorSkill.objects.exists()


def test_a_concurrent_edit_is_shown(boss, olga, english_skill):
    give(olga, english_skill, 4)  # saved elsewhere after this page was read (version 0 shown)
    response = post_cell(boss, olga, english_skill, "9", version=0)
    html = response.content.decode()
    assert response.status_code == 409 and "someone else changed this cell" in html
    assert 'value="4"' in html and 'name="version" value="1"' in html
    assert OperatorSkill.objects.get().level == 4


def test_forged_ids_are_404(boss, olga, english_skill):
    data = {"operator": "999999", "skill": english_skill.pk, "level": "5", "version": "0"}
    assert boss.post(reverse("callcenter:acd_cell"), data).status_code == 404
    data = {"operator": "²", "skill": english_skill.pk, "level": "5", "version": "0"}
    assert boss.post(reverse("callcenter:acd_cell"), data).status_code == 404


def test_operators_and_managers_get_403(client, olga, alice, helen, english_skill):
    queue = Queue.objects.create(name="sales")
    for user in (olga.user, alice, helen):
        client.force_login(user)
        assert client.get(reverse("callcenter:acd")).status_code == 403
        assert post_cell(client, olga, english_skill, "5").status_code == 403
        assert client.post(reverse("callcenter:acd_skill_add"), {"name": "X"}).status_code == 403
        url = reverse("callcenter:acd_queue", args=[queue.pk])
        assert client.post(url, {"strategy": "round_robin"}).status_code == 403
        assert (
            reverse("callcenter:acd")
            not in client.get(reverse("callcenter:console")).content.decode()
        )
    assert not OperatorSkill.objects.exists() and Skill.objects.count() == 1
    assert not QueueRouting.objects.exists()


def test_a_supervisor_role_may(client, olga, english_skill):
    role = Role.objects.create(code="supervisor", name="Supervisor")
    Grant.objects.create(role=role, kind="call", action="edit", scope=Grant.Scope.ALL)
    olga.user.role = role
    olga.user.save()
    client.force_login(olga.user)
    assert post_cell(client, olga, english_skill, "6").status_code == 200


def test_skills_are_added_and_removed(boss, english_skill):
    assert boss.post(reverse("callcenter:acd_skill_add"), {"name": "Loans"}).status_code == 302
    again = boss.post(reverse("callcenter:acd_skill_add"), {"name": "loans"})
    assert again.status_code == 422 and "already a skill" in again.content.decode()
    loans = Skill.objects.get(name="Loans")
    boss.post(reverse("callcenter:acd_skill_remove", args=[loans.pk]))
    assert not Skill.objects.filter(name="Loans").exists()


def routing_form(english_skill, **change):
    data = {
        "strategy": "skill_level",
        "sticky_wait_s": "10",
        "escalate_after_s": "",
        "use_abc": "on",
        "version": "0",
        f"need_{english_skill.pk}": "6",
        "after_0": "30",
        "drop_0": "2",
    }
    data.update(change)
    return data


def test_the_queue_routing_form(boss, english_skill):
    queue = Queue.objects.create(name="sales")
    other = Queue.objects.create(name="general")
    url = reverse("callcenter:acd_queue", args=[queue.pk])
    assert boss.get(url).status_code == 200
    saved = boss.post(url, routing_form(english_skill, after_1="90", target_1=str(other.pk)))
    assert saved.status_code == 302
    assert queue.routing.strategy == "skill_level"
    assert list(queue.required_skills.values_list("min_level", flat=True)) == [6]
    assert list(QueueOverflow.objects.values_list("after_wait_s", "level_drop", "target_id")) == [
        (30, 2, None),
        (90, None, other.pk),
    ]
    stale = boss.post(url, routing_form(english_skill, strategy="round_robin"))
    assert stale.status_code == 422 and "Someone else changed" in stale.content.decode()
    assert QueueRouting.objects.get().strategy == "skill_level"


@pytest.mark.parametrize(
    "change",
    [
        {"need_X": "1"},  # ignored: not a field
        {"strategy": "random"},
        {"sticky_wait_s": "²"},
        {"after_0": "30", "drop_0": "", "target_0": ""},
        {"after_0": "30", "drop_0": "10"},
        {"target_0": "999999", "drop_0": ""},
    ],
)
def test_bad_routing_input_is_named_and_saves_nothing(boss, english_skill, change):
    queue = Queue.objects.create(name="sales")
    url = reverse("callcenter:acd_queue", args=[queue.pk])
    data = routing_form(english_skill, **change)
    if "need_X" in change:
        data[f"need_{english_skill.pk}"] = "11"
    response = boss.post(url, data)
    assert response.status_code == 422
    assert "invalid-feedback" in response.content.decode()
    assert not QueueRouting.objects.exists()
