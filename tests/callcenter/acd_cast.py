"""The ACD cast: a "sales" queue needing English ≥ 5; olga (101, English 7), oleg (102, English
3); ivan (alice's client) calls from IVAN_PHONE."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kartoteka.callcenter.acd_models import OperatorSkill, QueueRouting, QueueSkill, Skill
from kartoteka.callcenter.models import Call, Operator, Queue


def skilled_queue(name: str = "sales", level: int = 5, **routing: object) -> tuple[Queue, Skill]:
    queue = Queue.objects.create(name=name)
    english, _created = Skill.objects.get_or_create(name="English")
    QueueSkill.objects.create(queue=queue, skill=english, min_level=level)
    QueueRouting.objects.create(queue=queue, **routing)
    return queue, english


def give(operator: Operator, skill: Skill, level: int) -> OperatorSkill:
    return OperatorSkill.objects.create(operator=operator, skill=skill, level=level)


def idle(operator: Operator, seconds_ago: float) -> None:
    """Available since `seconds_ago` (longest idle goes first)."""
    Operator.objects.filter(pk=operator.pk).update(
        status="available", since=timezone.now() - dt.timedelta(seconds=seconds_ago)
    )


def busy(operator: Operator) -> None:
    Operator.objects.filter(pk=operator.pk).update(status="on_call")


def waiting_call(call_id: str, queue: str, seconds_ago: float, caller: str = "") -> Call:
    return Call.objects.create(
        provider="asterisk",
        call_id=call_id,
        status=Call.Status.QUEUED,
        queue=queue,
        caller=caller,
        started_at=timezone.now() - dt.timedelta(seconds=seconds_ago),
    )
