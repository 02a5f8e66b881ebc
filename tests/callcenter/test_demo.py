"""The demo contact centre: deterministic for a seed, consistent rows, added once."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict

import pytest

from kartoteka.callcenter import demo, demo_apps
from kartoteka.callcenter.acd_models import (
    OperatorSkill,
    QueueOverflow,
    QueueRouting,
    QueueSkill,
    Skill,
)
from kartoteka.callcenter.models import Call, Operator, OperatorStatusChange, Queue
from kartoteka.callscripts import services
from kartoteka.callscripts.models import Option, Script, Step
from kartoteka.ivr import crm, engine, runtime
from kartoteka.ivr.engine import Route
from kartoteka.ivr.models import Menu, Node
from kartoteka.quality.models import Criterion, Scorecard

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC)  # a Friday


def _snapshot() -> list[tuple]:  # type: ignore[type-arg]
    return list(
        Call.objects.order_by("call_id").values_list(
            "call_id", "status", "started_at", "answered_at", "ended_at", "extension", "queue"
        )
    )


def test_demo_calls_are_seeded_consistent_and_added_once(admin):
    figures = demo.load(days=7, seed=3, now=NOW)
    assert figures["calls"] > 300 and Queue.objects.count() == 2 and Operator.objects.count() == 6
    first = _snapshot()
    statuses = {row[1] for row in first}
    assert {"ended", "abandoned"} <= statuses
    assert demo.load(days=7, seed=3, now=NOW)["calls"] == 0  # once
    for call in Call.objects.filter(status="ended"):
        assert call.operator_id and call.started_at <= call.answered_at < call.ended_at
    lost = Call.objects.filter(status__in=Call.LOST)
    assert lost.exists() and not lost.filter(callback_task__isnull=True).exists()
    # Each operator's history is a sequence of intervals that never overlap.
    spans = defaultdict(list)
    for row in OperatorStatusChange.objects.order_by("started_at"):
        spans[row.operator_id].append((row.started_at, row.ended_at))
    for rows in spans.values():
        for (_s1, e1), (s2, _e2) in itertools.pairwise(rows):
            assert e1 is not None and e1 <= s2
    Call.objects.all().delete()
    OperatorStatusChange.objects.all().delete()
    demo.load(days=7, seed=3, now=NOW)
    assert _snapshot() == first  # the same seed, the same calls


def _settings_snapshot() -> dict[str, int]:
    models = [
        Skill,
        OperatorSkill,
        QueueRouting,
        QueueSkill,
        QueueOverflow,
        Menu,
        Node,
        Script,
        Step,
        Option,
        Scorecard,
        Criterion,
    ]
    return {m.__name__: m._default_manager.count() for m in models}


def test_demo_settings_show_on_every_page_and_are_added_once(admin, client):
    demo.load(days=2, seed=3, now=NOW)
    figures = demo_apps.load()  # the first administrator writes them
    assert figures == {
        "skills": 4,
        "levels": 17,
        "routed_queues": 2,
        "menus": 1,
        "nodes": 7,
        "scripts": 2,
        "steps": 13,
        "scorecards": 1,
        "criteria": 5,
    }
    client.force_login(admin)
    acd = client.get("/calls/acd/").content.decode()
    assert all(s in acd for s in ("Русский язык", "Биллинг", "Продажи ≥ 6", "Биллинг ≥ 5"))
    sales = QueueRouting.objects.get(queue__name="sales")
    assert sales.strategy == "skill_level" and sales.use_abc and sales.vip_tag is None  # no VIP tag
    assert sales.queue.overflow.count() == 2
    menu = Menu.objects.get()
    assert menu.is_active and menu.number == "+74950000000"
    page = client.get(f"/ivr/{menu.pk}/").content.decode()
    assert all(s in page for s in ("Главное меню", "Отдел продаж", "Номер сделки", "Оператор"))
    tree = runtime.load_tree(menu)  # a caller walks it: 1 sales; 2 then 0 support
    assert engine.feed(tree, crm.CRM, engine.start(tree, crm.CRM).state, "1").last == Route("sales")
    support = engine.feed(tree, crm.CRM, engine.start(tree, crm.CRM).state, "2")
    assert engine.feed(tree, crm.CRM, support.state, "0").last == Route("support")
    for script in Script.objects.all():
        assert script.is_active and not services.problems(script).errors
        page = client.get(f"/call-scripts/{script.pk}/").content.decode()
        assert script.name in page and "{first_name}" in page
    assert Step.objects.filter(kind="final", disposition__isnull=False).count() == 5
    card = Scorecard.objects.get()
    assert card.criteria.filter(critical=True).count() == 1
    assert "Входящий звонок" in client.get("/quality/scorecards/").content.decode()
    before = _settings_snapshot()
    assert not any(demo_apps.load().values())  # a second run adds nothing
    assert _settings_snapshot() == before
