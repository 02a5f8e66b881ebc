"""The ACD router: which operators may take a call, who gets it, which waiting call goes first.

A pure module — plain dataclasses in, decisions out, no database, no clock, no randomness — so
the live path (telephony events) and the simulator run exactly the same code. The caller owns
time: every entry point takes `now` in seconds.

Routing is in two steps. First, who *may* take a call: its requirement tiers, tried in order:

1. the sticky operator (the client's owner or the owner of an open deal), if one is set; during
   the queue's `sticky_wait_s` the call waits for that operator alone;
2. the skills and minimum levels the call (or else its queue) requires;
3. each overflow step whose `after_wait_s` has passed: a widened requirement (lower levels) or
   another queue's requirement;
4. supervisors, once the call has waited `escalate_after_s`.

The first tier with an available operator wins; supervisors take calls only through their
tier (they stay free for escalations) or as a sticky owner. Second, *who gets it* within the
tier: the queue's strategy (longest idle, fewest calls, round robin, highest skill level).
An operator who becomes free takes the first waiting call, in the order of `priority()`
(ABC class, VIP, escalation) and then of arrival, that lists them in any of its tiers.

Speed: available operators are indexed by skill in insertion-ordered dicts, so "longest idle"
is the first operator of the smallest pool that meets the requirement (the order holds while
operators become free in time order; if a caller breaks it, the strategy falls back to a scan).
Waiting calls sit in one list sorted by (−priority, arrival) and, again, in one sorted list per
tier (requirement, sticky operator, escalated); a freed operator compares the heads of the
groups it may serve — those filed under one of its skills — instead of scanning every call.
Time-driven changes (overflow, escalation, the end of a sticky wait) are kept in a heap and
applied by `assign()`.
"""

from kartoteka.callcenter.routing.decide import (
    _by_strategy,
    _meets,
    _tiers,
    choose_operator,
    eligible,
    may_take,
    next_call,
)
from kartoteka.callcenter.routing.events import abandon, arrive, assign, next_timer, release
from kartoteka.callcenter.routing.state import (
    add_operator,
    make_state,
    remove_operator,
    set_state,
)
from kartoteka.callcenter.routing.types import (
    _STICKY,
    _SUPERVISORS,
    ABC_PRIORITY,
    ESCALATED_PRIORITY,
    VIP_PRIORITY,
    AgentState,
    Operator,
    Overflow,
    QueueConfig,
    Requirement,
    RouterState,
    Strategy,
    Tier,
    WaitingCall,
    priority,
    requirement,
)

__all__ = [
    "ABC_PRIORITY",
    "ESCALATED_PRIORITY",
    "VIP_PRIORITY",
    "_STICKY",
    "_SUPERVISORS",
    "AgentState",
    "Operator",
    "Overflow",
    "QueueConfig",
    "Requirement",
    "RouterState",
    "Strategy",
    "Tier",
    "WaitingCall",
    "_by_strategy",
    "_meets",
    "_tiers",
    "abandon",
    "add_operator",
    "arrive",
    "assign",
    "choose_operator",
    "eligible",
    "make_state",
    "may_take",
    "next_call",
    "next_timer",
    "priority",
    "release",
    "remove_operator",
    "requirement",
    "set_state",
]
