"""A sales script helen (head of the Sales team) built, and a call olga answered from ivan.

1 choice  "Hello {first_name}! Is it a good time?"  interested → 2, busy → 4
2 number  "How many boxes?"                          → 3
3 yes/no  "Deliver tomorrow?"                        yes → 4, no → 4
4 final   "Thank you!"                               suggests the result "Sale"
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from kartoteka.callcenter.models import Call, Disposition, Operator, Queue
from kartoteka.callscripts import services
from kartoteka.callscripts.models import Script, Step
from kartoteka.callscripts.services import OptionData, ScriptData, StepData
from tests.callcenter.conftest import ivan, make_operator, oleg, olga  # noqa: F401 - fixtures
from tests.conftest import make_user

__all__ = ["build", "make_call"]


def build(actor: Any, name: str = "Sales", **script: Any) -> Script:
    sale, _new = Disposition.objects.get_or_create(name="Sale")
    made = services.create_script(actor, ScriptData(name=name, **script))
    steps = [
        services.save_step(actor, made, None, None, StepData(text=f"step {n}", kind="final"))
        for n in range(4)
    ]
    _s1, s2, s3, s4 = (s.pk for s in steps)
    specs = [
        StepData(
            text="Hello {first_name}! Is it a good time?",
            kind=Step.Kind.CHOICE,
            options=[OptionData("interested", s2), OptionData("busy", s4)],
        ),
        StepData(text="How many boxes?", kind=Step.Kind.NUMBER, next_step_id=s3),
        StepData(text="Deliver tomorrow?", kind=Step.Kind.YESNO, next_step_id=s4, no_step_id=s4),
        StepData(text="Thank you!", kind=Step.Kind.FINAL, disposition=sale),
    ]
    for step, spec in zip(steps, specs, strict=True):
        services.save_step(actor, made, None, step, spec)
    made.refresh_from_db()
    return services.update_script(
        actor, made, made.version, ScriptData(name=name, is_active=True, **script)
    )


def make_call(operator: Operator | None, client: Any = None, **extra: Any) -> Call:
    extra.setdefault("call_id", f"c{Call.objects.count() + 1}")
    return Call.objects.create(
        provider="webhook",
        direction=extra.pop("direction", "in"),
        status="answered",
        started_at=timezone.now(),
        answered_at=timezone.now(),
        operator=operator,
        user=operator.user if operator else None,
        client=client,
        queue=extra.pop("queue", "sales"),
        **extra,
    )


@pytest.fixture
def script(helen) -> Script:
    return build(helen)


@pytest.fixture
def call(olga, ivan) -> Call:  # noqa: F811
    return make_call(olga, ivan)


@pytest.fixture
def analyst(sales):
    return make_user("ann", role="analyst", first_name="Ann")


@pytest.fixture
def queue(db) -> Queue:
    return Queue.objects.create(name="sales")
