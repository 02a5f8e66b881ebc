"""Domain events of the planner, for automation and real time: emitted after the write commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class TaskCreated:
    task_id: int
    actor_id: int | None


@dataclass(frozen=True)
class TaskDone:
    task_id: int
    actor_id: int | None


Event = TaskCreated | TaskDone
_subscribers: list[Callable[[Event], None]] = []


def subscribe(handler: Callable[[Event], None]) -> None:
    _subscribers.append(handler)


def emit(event: Event) -> None:
    """Deliver `event` to the subscribers once the current transaction commits."""

    def deliver() -> None:
        for handler in list(_subscribers):
            handler(event)

    transaction.on_commit(deliver)
