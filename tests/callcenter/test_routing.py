"""The ACD router: eligibility, strategies, priorities, sticky routing, overflow, escalation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kartoteka.callcenter import routing
from kartoteka.callcenter.routing import (
    AgentState,
    Operator,
    Overflow,
    QueueConfig,
    Strategy,
    WaitingCall,
    abandon,
    arrive,
    assign,
    choose_operator,
    eligible,
    make_state,
    next_call,
    next_timer,
    priority,
    release,
    set_state,
)

FREE = AgentState.AVAILABLE


def op(id_, skills=None, idle=0.0, calls=0, supervisor=False, state=FREE):
    return Operator(id_, dict(skills or {}), state, idle, calls, supervisor)


def call(id_, queue="sales", at=0.0, **extra):
    return WaitingCall(id_, queue, arrived_at=at, **extra)


def test_priority_from_crm_data():
    assert priority("C") == priority("") == 0
    assert priority("B") < priority("A") < priority("", vip=True) < priority("A", vip=True)
    assert priority("a") == priority("A")
    assert priority("A", vip=True) < priority("", escalated=True)


def test_only_operators_with_the_skills_and_levels_may_take_a_call():
    state = make_state(
        [QueueConfig("sales", {"ru": 1, "b2b": 2})],
        [op(1, {"ru": 3, "b2b": 1}), op(2, {"ru": 1, "b2b": 2}), op(3, {"b2b": 5}), op(4)],
    )
    c = call(1)
    assert arrive(state, c, 0.0).id == 2
    late = call(2, required={"ru": 3})  # the call's own requirement replaces the queue's
    assert arrive(state, late, 0.0).id == 1
    assert arrive(state, call(3), 0.0) is None  # nobody left who meets it
    assert [o.id for o in state.available.values()] == [3, 4]


def test_supervisors_take_no_queue_calls_until_escalation():
    state = make_state([QueueConfig("sales")], [op(1, supervisor=True)])
    c = call(1)
    assert arrive(state, c, 0.0) is None
    assert eligible(state, c) == [] and choose_operator(state, c) is None


def test_eligible_lists_the_first_tier_that_has_anyone():
    queue = QueueConfig("sales", {"en": 3}, overflow=(Overflow(20.0, required={"en": 1}),))
    state = make_state([queue], [op(1, {"en": 1}), op(2, {"en": 2}), op(3, {"de": 1})])
    c = call(1, at=0.0)
    assert arrive(state, c, 0.0) is None
    assert eligible(state, c) == []
    assign(state, 25.0)  # widened: but assign put it through already
    assert not c.waiting
    d = call(2, at=0.0, sticky_operator_id=3)
    routing._tiers(state, queue, d, 30.0)
    assert [o.id for o in eligible(state, d)] == [3]  # the owner, whatever the skills


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (Strategy.LONGEST_IDLE, 3),
        (Strategy.FEWEST_CALLS, 2),
        (Strategy.SKILL_LEVEL, 1),
        (Strategy.ROUND_ROBIN, 1),
    ],
)
def test_who_gets_the_call(strategy, expected):
    operators = [
        op(1, {"ru": 5}, idle=30.0, calls=9),
        op(2, {"ru": 1}, idle=20.0, calls=1),
        op(3, {"ru": 2}, idle=10.0, calls=5),
    ]
    state = make_state([QueueConfig("sales", {"ru": 1}, strategy)], operators)
    assert arrive(state, call(1), 40.0).id == expected


def test_round_robin_goes_around():
    state = make_state(
        [QueueConfig("sales", strategy=Strategy.ROUND_ROBIN)], [op(i) for i in (1, 2, 3)]
    )
    taken = []
    for i in range(6):
        operator = arrive(state, call(i, at=i), float(i))
        taken.append(operator.id)
        release(state, operator, float(i))
    assert taken == [1, 2, 3, 1, 2, 3]


def test_longest_idle_survives_out_of_order_idle_times():
    state = make_state([QueueConfig("sales")], [op(1, idle=5.0), op(2, idle=9.0)])
    set_state(state, state.operators[2], AgentState.PAUSED, 10.0)
    late = op(3, idle=1.0)
    routing.add_operator(state, late)  # idle since 1.0 but added last
    assert not state.in_order
    assert arrive(state, call(1), 11.0).id == 3


def test_waiting_calls_go_by_priority_then_wait():
    state = make_state([QueueConfig("sales")], [op(1, state=AgentState.BUSY)])
    arrive(state, call(1, at=0.0), 0.0)
    arrive(state, call(2, at=1.0, abc_class="B"), 1.0)
    arrive(state, call(3, at=2.0, abc_class="A"), 2.0)
    arrive(state, call(4, at=3.0, vip=True), 3.0)
    arrive(state, call(5, at=4.0, abc_class="A"), 4.0)
    order = []
    operator = state.operators[1]
    for t in range(5, 10):
        taken = release(state, operator, float(t))
        order.append(taken.id)
    assert order == [4, 3, 5, 2, 1]
    assert release(state, operator, 10.0) is None
    assert operator.calls_taken == 5


def test_a_freed_operator_skips_calls_it_may_not_take():
    state = make_state([QueueConfig("sales")], [op(1, {"en": 1}, state=AgentState.BUSY)])
    arrive(state, call(1, required={"de": 1}, vip=True), 0.0)
    arrive(state, call(2, required={"en": 1}), 0.0)
    assert next_call(state, state.operators[1]).id == 2
    assert release(state, state.operators[1], 1.0).id == 2
    assert [c.id for c in state.waiting] == [1]


def test_sticky_owner_first_then_the_queue():
    state = make_state([QueueConfig("sales")], [op(1, idle=0.0), op(7, {"x": 1}, idle=5.0)])
    assert arrive(state, call(1, sticky_operator_id=7), 9.0).id == 7  # not the longest idle
    assert arrive(state, call(2, sticky_operator_id=7), 9.0).id == 1  # owner busy: the queue


def test_sticky_wait_holds_the_call_for_its_owner():
    queue = QueueConfig("sales", sticky_wait_s=30.0)
    state = make_state([queue], [op(1), op(7, state=AgentState.BUSY)])
    c = call(1, sticky_operator_id=7, at=0.0)
    assert arrive(state, c, 0.0) is None
    assert next_timer(state) == 30.0
    assert assign(state, 29.0) == []
    pairs = assign(state, 30.0)  # the owner did not free up in time: anyone may take it
    assert [(p[0].id, p[1].id) for p in pairs] == [(1, 1)]


def test_sticky_owner_takes_the_call_when_free_within_the_wait():
    queue = QueueConfig("sales", sticky_wait_s=30.0)
    state = make_state([queue], [op(1), op(7, state=AgentState.BUSY)])
    arrive(state, call(1, sticky_operator_id=7), 0.0)
    assert release(state, state.operators[1], 5.0) is None  # not the owner
    assert release(state, state.operators[7], 6.0).id == 1


def test_overflow_widens_the_requirement_after_a_wait():
    queue = QueueConfig(
        "sales",
        {"en": 3},
        overflow=(Overflow(20.0, required={"en": 1}), Overflow(60.0, queue="support")),
    )
    support = QueueConfig("support", {"tech": 1})
    state = make_state(
        [queue, support], [op(1, {"en": 1}, state=AgentState.BUSY), op(2, {"tech": 2})]
    )
    c = call(1, at=0.0)
    assert arrive(state, c, 0.0) is None
    assert release(state, state.operators[1], 10.0) is None  # level 1 < 3, not yet widened
    assert next_timer(state) == 20.0
    pairs = assign(state, 20.0)
    assert [(p[0].id, p[1].id) for p in pairs] == [(1, 1)]


def test_overflow_to_another_queue():
    queue = QueueConfig("sales", {"en": 3}, overflow=(Overflow(60.0, queue="support"),))
    state = make_state([queue, QueueConfig("support", {"tech": 1})], [op(2, {"tech": 2})])
    arrive(state, call(1), 0.0)
    assert assign(state, 59.0) == []
    assert [(c.id, o.id) for c, o in assign(state, 60.0)] == [(1, 2)]


def test_escalation_to_a_supervisor_raises_priority():
    queue = QueueConfig("sales", {"en": 1}, escalate_after_s=120.0)
    boss = op(9, supervisor=True, state=AgentState.BUSY)
    state = make_state([queue], [boss, op(1, {"en": 1}, state=AgentState.BUSY)])
    old = call(1, at=0.0)
    arrive(state, old, 0.0)
    vip = call(2, at=100.0, vip=True)
    arrive(state, vip, 100.0)
    assert state.waiting[0] is vip
    assign(state, 120.0)
    assert old.escalated and state.waiting[0] is old  # now ahead of the VIP
    assert release(state, boss, 121.0) is old  # the supervisor takes the escalated call
    assert release(state, state.operators[1], 122.0) is vip


def test_abandon_and_pause():
    state = make_state([QueueConfig("sales")], [op(1, state=AgentState.BUSY)])
    c = call(1)
    arrive(state, c, 0.0)
    assert abandon(state, c) and not abandon(state, c)
    assert state.waiting == []
    set_state(state, state.operators[1], AgentState.PAUSED, 1.0)
    c2 = call(2, at=2.0)
    assert arrive(state, c2, 2.0) is None
    set_state(state, state.operators[1], AgentState.AVAILABLE, 3.0)
    assert [(c.id, o.id) for c, o in assign(state, 3.0)] == [(2, 1)]


def test_bad_configuration_names_the_field():
    with pytest.raises(ValueError, match="overflow"):
        make_state([QueueConfig("sales", overflow=(Overflow(10, queue="nope"),))])
    state = make_state([QueueConfig("sales")])
    with pytest.raises(ValueError, match="queue"):
        arrive(state, call(1, queue="nope"), 0.0)


# The fast paths against a plain reference: every available operator, every tier, min by key.


def _reference(state, c):
    q = state.queues[c.queue]
    free = list(state.available.values())  # in the order they became free: ties go to the first
    for tier in c.tiers:
        if tier is routing._STICKY:
            found = [o for o in free if o.id == c.sticky_operator_id]
        elif tier is routing._SUPERVISORS:
            found = [o for o in free if o.is_supervisor]
        else:
            found = [
                o
                for o in free
                if not o.is_supervisor and all(o.skills.get(s, -1) >= lv for s, lv in tier)
            ]
        if found:
            if q.strategy is Strategy.LONGEST_IDLE or tier is routing._STICKY:
                return min(found, key=lambda o: o.idle_since)
            return routing._by_strategy(state, q, tier, found)
    return None


SKILLS = ["ru", "en", "de", "b2b"]
operators_st = st.lists(
    st.tuples(
        st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=3),
        st.integers(0, 50),
        st.booleans(),
    ),
    min_size=1,
    max_size=12,
)
calls_st = st.lists(
    st.tuples(
        st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=2),
        st.sampled_from(["", "A", "B", "C"]),
        st.booleans(),
        st.one_of(st.none(), st.integers(0, 11)),
    ),
    max_size=15,
)


@settings(max_examples=100, deadline=None)
@given(
    operators=operators_st,
    calls=calls_st,
    strategy=st.sampled_from(list(Strategy)),
    events=st.lists(st.integers(0, 11), max_size=20),
)
def test_router_decisions_match_a_plain_reference(operators, calls, strategy, events):
    queue = QueueConfig("sales", strategy=strategy)
    ops = [
        op(i, skills, idle=float(idle), supervisor=(i == 0 and boss))
        for i, (skills, idle, boss) in enumerate(operators)
    ]
    state = make_state([queue], ops)
    now = 100.0
    for k, (required, abc, vip, sticky) in enumerate(calls):
        c = call(k, at=now, required=required, abc_class=abc, vip=vip, sticky_operator_id=sticky)
        routing._tiers(state, queue, c, now)
        expected = _reference(state, c)
        got = arrive(state, c, now)
        assert (got and got.id) == (expected and expected.id)
        now += 1.0
    for i in events:  # operators free up: each takes the first waiting call it may take
        operator = state.operators.get(i)
        if operator is None or operator.state is FREE:
            continue
        candidates = [c for c in state.waiting if routing.may_take(operator, c)]
        got = release(state, operator, now)
        assert got is (candidates[0] if candidates else None)
        now += 1.0
    # Nothing left that could be put through.
    for c in state.waiting:
        assert not any(routing.may_take(o, c) for o in state.available.values())
    keys = [c.key for c in state.waiting]
    assert keys == sorted(keys)
    assert math.isinf(next_timer(state) or math.inf)


@settings(max_examples=60, deadline=None)
@given(
    operators=operators_st,
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("call"), calls_st.map(lambda c: c[:1])),
            st.tuples(st.just("free"), st.integers(0, 11)),
            st.tuples(st.just("wait"), st.floats(0.5, 90.0)),
        ),
        max_size=40,
    ),
)
def test_time_driven_routing_keeps_the_invariant(operators, steps):
    """With overflow, escalation and a sticky wait: after every event and every assign() no
    waiting call could be taken by an available operator, and every decision is the reference's."""
    queue = QueueConfig(
        "sales",
        {"ru": 2},
        overflow=(Overflow(30.0, required={"ru": 1}), Overflow(60.0, required={})),
        escalate_after_s=80.0,
        sticky_wait_s=20.0,
    )
    ops = [
        op(i, skills, idle=float(idle), supervisor=(i < 2 and boss), state=AgentState.BUSY)
        for i, (skills, idle, boss) in enumerate(operators)
    ]
    state = make_state([queue], ops)
    now, n = 0.0, 0
    for kind, arg in steps:
        if kind == "wait":
            now += arg
            assign(state, now)
        elif kind == "free":
            operator = state.operators.get(arg)
            if operator is None or operator.state is FREE:
                continue
            candidates = [c for c in state.waiting if routing.may_take(operator, c)]
            assert release(state, operator, now) is (candidates[0] if candidates else None)
        else:
            for required, abc, vip, sticky in arg:
                c = call(n, at=now, required=required, abc_class=abc, vip=vip)
                c.sticky_operator_id = sticky
                n += 1
                routing._tiers(state, queue, c, now)
                expected = _reference(state, c)
                got = arrive(state, c, now)
                assert (got and got.id) == (expected and expected.id)
        for c in state.waiting:
            assert not any(routing.may_take(o, c) for o in state.available.values()), c
        keys = [c.key for c in state.waiting]
        assert keys == sorted(keys)
        filed = sorted(c.key for group in state.groups.values() for c in group)
        assert filed == sorted(
            c.key
            for c in state.waiting
            for t in c.tiers
            if t not in (routing._STICKY, routing._SUPERVISORS)
        )


def test_strings_from_model_choices_are_accepted():
    queue = QueueConfig("sales", strategy="fewest_calls")
    operator = Operator(1, {}, "available", 0.0, 3)
    state = make_state([queue], [operator, op(2, calls=1)])
    assert state.queues["sales"].strategy is Strategy.FEWEST_CALLS
    assert arrive(state, call(1), 1.0).id == 2


@pytest.mark.parametrize(
    ("queue", "field"),
    [
        (QueueConfig("sales", strategy="random"), "strategy"),
        (QueueConfig("sales", overflow=(Overflow(-1.0, required={}),)), "overflow"),
        (QueueConfig("sales", overflow=(Overflow(5.0),)), "overflow"),
    ],
)
def test_bad_queue_configuration_names_the_field(queue, field):
    with pytest.raises(ValueError, match=field):
        make_state([queue])


def test_equal_idle_times_go_to_who_became_free_first():
    """Found by hypothesis: two operators freed at the same instant."""
    state = make_state(
        [QueueConfig("sales")], [op(0, state=AgentState.BUSY), op(1, state=AgentState.BUSY)]
    )
    release(state, state.operators[1], 5.0)
    release(state, state.operators[0], 5.0)
    assert arrive(state, call(1, at=5.0), 5.0).id == 1
    set_state(state, state.operators[1], AgentState.AVAILABLE, 5.0)  # now after operator 0
    routing.add_operator(state, op(2, idle=1.0))  # out of order: the slow path, same rule
    assert not state.in_order
    set_state(state, state.operators[2], AgentState.BUSY, 6.0)
    assert arrive(state, call(2, at=6.0), 6.0).id == 0
