"""Domain events of sales, for the automation to come: emitted after the write commits.

Subscribers register a callable with `subscribe`; nothing in sales depends on who listens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class DealCreated:
    deal_id: int
    actor_id: int | None


@dataclass(frozen=True)
class DealStageChanged:
    deal_id: int
    actor_id: int | None
    from_stage_id: int
    to_stage_id: int


@dataclass(frozen=True)
class DealWon:
    deal_id: int
    actor_id: int | None


@dataclass(frozen=True)
class DealLost:
    deal_id: int
    actor_id: int | None
    loss_reason_id: int | None


Event = DealCreated | DealStageChanged | DealWon | DealLost
_subscribers: list[Callable[[Event], None]] = []


def subscribe(handler: Callable[[Event], None]) -> None:
    _subscribers.append(handler)


def emit(event: Event) -> None:
    """Deliver `event` to the subscribers once the current transaction commits."""

    def deliver() -> None:
        for handler in list(_subscribers):
            handler(event)

    transaction.on_commit(deliver)
