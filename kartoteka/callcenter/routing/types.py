"""The router's data: operators, queues, waiting calls, the state, and priority from CRM data."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter


class AgentState(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    WRAP_UP = "wrap_up"  # after-call work
    PAUSED = "paused"
    OFFLINE = "offline"


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    FEWEST_CALLS = "fewest_calls"
    ROUND_ROBIN = "round_robin"
    SKILL_LEVEL = "skill_level"


# Priority from CRM data (documented in docs/staffing.md): a VIP outranks any ABC class, the ABC
# class orders the rest, and an escalated call outranks everything that has not escalated.
ABC_PRIORITY = {"A": 2, "B": 1, "C": 0}
VIP_PRIORITY = 4
ESCALATED_PRIORITY = 8
_ABC = ABC_PRIORITY | {k.lower(): v for k, v in ABC_PRIORITY.items()} | {"": 0}

Requirement = tuple[tuple[str, int], ...]  # ((skill, minimum level), ...), sorted
# Tier markers, compared by identity; shaped as requirements so every tier has one type.
_STICKY: Requirement = (("\0sticky", 0),)
_SUPERVISORS: Requirement = (("\0supervisors", 0),)
Tier = Requirement


def priority(abc_class: str = "", vip: bool = False, escalated: bool = False) -> int:
    """Higher goes first: A 2, B 1, C or unknown 0; +4 for a VIP; +8 once escalated."""
    return (
        ABC_PRIORITY.get(abc_class.upper(), 0)
        + (VIP_PRIORITY if vip else 0)
        + (ESCALATED_PRIORITY if escalated else 0)
    )


def requirement(skills: Mapping[str, int] | None) -> Requirement:
    return tuple(sorted((skills or {}).items()))


@dataclass(slots=True, eq=False)
class Operator:
    id: int
    skills: dict[str, int] = field(default_factory=dict)
    state: AgentState = AgentState.OFFLINE
    idle_since: float = 0.0
    calls_taken: int = 0
    is_supervisor: bool = False


@dataclass(frozen=True, slots=True)
class Overflow:
    after_wait_s: float
    required: Mapping[str, int] | None = None  # a widened requirement …
    queue: str | None = None  # … or the requirement of another queue


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: str
    required: Mapping[str, int] = field(default_factory=dict)
    strategy: Strategy = Strategy.LONGEST_IDLE
    overflow: tuple[Overflow, ...] = ()
    escalate_after_s: float | None = None
    sticky_wait_s: float = 0.0  # how long a call waits for its sticky operator alone


@dataclass(slots=True, eq=False)
class WaitingCall:
    id: int
    queue: str
    required: Mapping[str, int] | None = None  # None: what the queue requires
    abc_class: str = ""
    vip: bool = False
    sticky_operator_id: int | None = None
    arrived_at: float = 0.0
    # The router's working fields, set by arrive():
    priority: int = field(default=0, init=False)
    escalated: bool = field(default=False, init=False)
    tiers: tuple[Tier, ...] = field(default=(), init=False)
    key: tuple[int, float, int] = field(default=(0, 0.0, 0), init=False)
    waiting: bool = field(default=False, init=False)


_KEY = attrgetter("key")


@dataclass(eq=False)
class RouterState:
    queues: dict[str, QueueConfig]
    operators: dict[int, Operator] = field(default_factory=dict)
    available: dict[int, Operator] = field(default_factory=dict)  # everyone free, by id
    agents: dict[int, Operator] = field(default_factory=dict)  # free non-supervisors
    by_skill: dict[str, dict[int, Operator]] = field(default_factory=dict)
    supervisors: dict[int, Operator] = field(default_factory=dict)
    waiting: list[WaitingCall] = field(default_factory=list)  # sorted by WaitingCall.key
    # The same calls grouped by tier, each group sorted by key: a freed operator looks only at
    # the groups it may serve (skills groups listed under their first skill, "" for none).
    groups: dict[Requirement, list[WaitingCall]] = field(default_factory=dict)
    groups_by_skill: dict[str, set[Requirement]] = field(default_factory=dict)
    sticky_groups: dict[int, list[WaitingCall]] = field(default_factory=dict)
    escalated: list[WaitingCall] = field(default_factory=list)
    timers: list[tuple[float, int, WaitingCall]] = field(default_factory=list)
    rr_last: dict[str, int] = field(default_factory=dict)
    in_order: bool = True  # `available` is in idle_since order
    last_idle: float = -math.inf
    dirty: bool = False  # operators were made available without routing: assign() rescans
    seq: int = 0
    base_tiers: dict[str, tuple[Tier, ...]] = field(default_factory=dict)
    simple: dict[str, bool] = field(default_factory=dict)  # no time-driven changes
    overflow_tiers: dict[str, list[tuple[float, Requirement]]] = field(default_factory=dict)
