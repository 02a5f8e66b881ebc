"""The live ACD decision from CRM data: skills, priority (ABC, VIP), stickiness, overflow."""

from __future__ import annotations

import pytest

from kartoteka.callcenter import acd
from kartoteka.callcenter.acd_models import QueueOverflow
from kartoteka.callcenter.models import Operator, Queue
from kartoteka.clients.models import Tag
from kartoteka.segments.models import ClientClass
from tests.callcenter.acd_cast import busy, give, idle, skilled_queue, waiting_call
from tests.callcenter.conftest import IVAN_PHONE, make_operator

pytestmark = pytest.mark.django_db
STRANGER = "+79990001122"


@pytest.fixture
def cast(olga, oleg):
    queue, english = skilled_queue()
    give(olga, english, 7)
    give(oleg, english, 3)
    idle(olga, 10)
    idle(oleg, 100)  # longer idle, but not skilled enough
    return queue, english


def test_only_a_skilled_operator_takes_the_call(cast, olga, oleg):
    decision = acd.route(STRANGER, "sales")
    assert decision.operator_id == olga.pk and decision.extension == "101"
    busy(olga)
    assert acd.route(STRANGER, "sales").operator_id is None


def test_longest_idle_among_the_skilled(cast, olga, oleg):
    oleg.skill_levels.update(level=9)
    assert acd.route(STRANGER, "sales").extension == "102"  # idle 100 s against olga's 10 s


def test_skill_level_strategy_picks_the_best(cast, olga, oleg):
    queue, _english = cast
    oleg.skill_levels.update(level=9)
    queue.routing.strategy = "skill_level"
    queue.routing.save()
    idle(oleg, 1)
    idle(olga, 100)
    assert acd.route(STRANGER, "sales").extension == "102"


def test_an_unknown_queue_is_refused(cast):
    with pytest.raises(acd.UnknownQueue):
        acd.route(STRANGER, "nope")


def test_abc_class_and_vip_raise_the_priority(cast, ivan, olga, oleg):
    busy(olga)
    assert acd.route(IVAN_PHONE, "sales").priority == 0
    ClientClass.objects.create(client=ivan, abc="A", cycle="active")
    decision = acd.route(IVAN_PHONE, "sales")
    assert decision.priority == 2 and decision.client_id == ivan.pk
    vip = Tag.objects.create(name="VIP")
    ivan.tags.add(vip)
    routing = Queue.objects.get(name="sales").routing
    routing.vip_tag = vip
    routing.save()
    assert acd.route(IVAN_PHONE, "sales").priority == 6  # VIP 4 + A 2
    routing.use_abc = False
    routing.save()
    assert acd.route(IVAN_PHONE, "sales").priority == 4


def test_an_a_client_goes_before_earlier_callers(cast, ivan, olga, oleg):
    """Two strangers already wait; olga frees up: she takes the first stranger. The A client
    arriving now would have gone first — the router orders by priority, then wait."""
    ClientClass.objects.create(client=ivan, abc="A", cycle="active")
    busy(olga)
    waiting_call("w1", "sales", 60, caller=STRANGER)
    waiting_call("w2", "sales", 30, caller=STRANGER)
    idle(olga, 0)
    # olga takes the first waiting stranger, so nobody is left for the newcomer
    assert acd.route(IVAN_PHONE, "sales").operator_id is None
    assert acd.route(IVAN_PHONE, "sales").priority == 2


def test_sticky_to_the_clients_owner_when_available(cast, ivan, alice, olga, oleg):
    owner = make_operator("owen", "105")
    ivan.owner = owner.user
    ivan.save(update_fields=["owner"])
    idle(owner, 0)  # the least idle, and without the skill: still his client's call
    decision = acd.route(IVAN_PHONE, "sales")
    assert decision.extension == "105" and decision.facts.sticky_operator_id == owner.pk
    busy(owner)
    assert acd.route(IVAN_PHONE, "sales").extension == "101"  # no sticky wait: the queue


def test_sticky_wait_holds_the_call_for_the_owner(cast, ivan, olga):
    owner = make_operator("owen", "105")
    ivan.owner = owner.user
    ivan.save(update_fields=["owner"])
    busy(owner)
    Queue.objects.get(name="sales").routing.__class__.objects.update(sticky_wait_s=30)
    assert acd.route(IVAN_PHONE, "sales").operator_id is None  # waits for owen alone
    waiting_call("sticky", "sales", 40, caller=IVAN_PHONE)
    assert acd.route(IVAN_PHONE, "sales", call_id="sticky").extension == "101"


def test_the_owner_of_an_open_deal_comes_first(cast, ivan, olga, oleg):
    from kartoteka.sales.models import Deal, Pipeline

    dealer = make_operator("dina", "106")
    pipeline = Pipeline.objects.first()
    stage = pipeline.stages.filter(kind="open").first()
    from django.utils import timezone

    Deal.objects.create(
        pipeline=pipeline,
        stage=stage,
        title="Big",
        client=ivan,
        owner=dealer.user,
        stage_entered_at=timezone.now(),
    )
    idle(dealer, 0)
    assert acd.route(IVAN_PHONE, "sales").extension == "106"


def test_overflow_after_the_wait(cast, olga, oleg):
    queue, _english = cast
    busy(olga)
    QueueOverflow.objects.create(queue=queue, position=0, after_wait_s=30, level_drop=2)
    assert acd.route(STRANGER, "sales").operator_id is None  # just arrived: English 5 needed
    waiting_call("long", "sales", 45, caller=STRANGER)
    assert acd.route(STRANGER, "sales", call_id="long").extension == "102"  # 5 - 2 = 3


def test_overflow_to_another_queue(cast, olga, oleg):
    queue, _english = cast
    busy(olga)
    other = Queue.objects.create(name="general")
    QueueOverflow.objects.create(queue=queue, position=0, after_wait_s=20, target=other)
    waiting_call("long", "sales", 25)
    assert acd.route(STRANGER, "sales", call_id="long").extension == "102"


def test_escalation_to_a_supervisor(cast, olga, oleg, admin):
    queue, _english = cast
    busy(olga)
    busy(oleg)
    chief = Operator.objects.create(user=admin, extension="900", since=olga.since)
    idle(chief, 5)
    queue.routing.escalate_after_s = 60
    queue.routing.save()
    assert acd.route(STRANGER, "sales").operator_id is None  # supervisors stay free
    waiting_call("long", "sales", 90)
    decision = acd.route(STRANGER, "sales", call_id="long")
    assert decision.extension == "900" and decision.priority == 8


def test_queries_do_not_grow_with_waiting_calls(cast, django_assert_max_num_queries):
    for n in range(30):
        waiting_call(f"w{n}", "sales", 100 - n, caller=IVAN_PHONE)
    with django_assert_max_num_queries(20):
        acd.route(STRANGER, "sales")
