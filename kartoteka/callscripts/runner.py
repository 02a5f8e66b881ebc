"""A script walked on a call: which script applies, where the operator is, answers and "back".

Every answer is a row written at once, so a reload (or another tab) resumes where the operator
was. An answer names the step it answers: a stale page (the run moved on elsewhere) is refused
instead of answering the wrong question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.callcenter import services as calls
from kartoteka.callcenter.models import Call, Disposition
from kartoteka.callscripts import placeholders
from kartoteka.callscripts.models import Answer, Option, Run, Script, Step
from kartoteka.callscripts.services import live_steps
from kartoteka.clients.queries import visible_clients
from kartoteka.core import permissions
from kartoteka.core.permissions import Action, Denied

MAX_ANSWER = 2000
MAX_ANSWERS = 300  # a run through a cycle cannot grow without end
NUMBER = re.compile(r"[+-]?[0-9]{1,15}(\.[0-9]{1,10})?")
YES, NO = "yes", "no"


@dataclass
class State:
    """What the card shows: the script, the step to answer now, the path so far."""

    script: Script
    run: Run | None
    step: Step | None  # None: finished, or the step was removed from the script
    said: str
    number: int | None
    options: list[Option] = field(default_factory=list)
    path: list[Answer] = field(default_factory=list)
    can_answer: bool = False
    lost_step: bool = False  # the run stands on a step the script no longer has

    @property
    def finished(self) -> bool:
        return self.run is not None and self.run.finished_at is not None


def applicable(call: Call) -> Script | None:
    """The active script for the call's direction and queue; one naming the queue wins over
    one for every queue."""
    rows = Script.objects.filter(is_active=True).filter(
        Q(direction="") | Q(direction=call.direction)
    )
    named = (
        rows.filter(queues__name=call.queue).order_by("name", "id").first() if call.queue else None
    )
    return named or rows.filter(queues__isnull=True).order_by("name", "id").first()


def state(user: User, call: Call) -> State | None:
    run = Run.objects.select_related("script").filter(call=call).first()
    script = run.script if run is not None else applicable(call)
    if script is None:
        return None
    steps = live_steps(script)
    numbers = {step.pk: n for n, step in enumerate(steps, start=1)}
    by_id = {step.pk: step for step in steps}
    path = list(run.answers.filter(undone_at=None).order_by("id")) if run else []
    target = path[-1].next_step_id if path else steps[0].pk if steps else None
    step = by_id.get(target) if target is not None and not (run and run.finished_at) else None
    seen = call.client_id is not None and visible_clients(user).filter(pk=call.client_id).exists()
    client = call.client if seen else None
    known = placeholders.values(client, call.user or user)
    return State(
        script=script,
        run=run,
        step=step,
        said=placeholders.fill(step.text, known) if step else "",
        number=numbers.get(step.pk) if step else None,
        options=list(step.options.all()) if step else [],
        path=path,
        can_answer=permissions.can(user, Action.EDIT, call),
        lost_step=step is None and target is not None and not (run and run.finished_at),
    )


def _value(step: Step, option_id: int | None, value: str) -> tuple[str, Option | None, int | None]:
    """The answer as stored, the option chosen, and the next step; or a ValidationError."""
    kind = step.kind
    if kind == Step.Kind.CHOICE:
        option = step.options.filter(pk=option_id).first() if option_id else None
        if option is None:
            raise ValidationError({"option": [_("Choose one of this step's options.")]})
        return option.label, option, option.next_step_id
    if kind == Step.Kind.YESNO:
        if value not in (YES, NO):
            raise ValidationError({"value": [_("Answer yes or no.")]})
        return value, None, step.next_step_id if value == YES else step.no_step_id
    if kind == Step.Kind.NUMBER:
        return _number(value), None, step.next_step_id
    if kind == Step.Kind.TEXT:
        text = value.replace("\x00", "").strip()
        if not text:
            raise ValidationError({"value": [_("This field is required.")]})
        if len(text) > MAX_ANSWER:
            raise ValidationError({"value": [_("At most %(n)d characters.") % {"n": MAX_ANSWER}]})
        return text, None, step.next_step_id
    return "", None, None  # the final step: it finishes the run


def _number(value: str) -> str:
    """A plain decimal in ASCII digits ("12,5" too); no exponents, NaN or other scripts' digits."""
    text = value.strip().replace(",", ".").replace(" ", "")
    if not NUMBER.fullmatch(text):
        raise ValidationError({"value": [_("Enter a number.")]})
    number = Decimal(text)
    return format(number.normalize(), "f") if number == number.to_integral() else str(number)


def answer(
    user: User,
    call: Call,
    script_id: int | None,
    step_id: int | None,
    option_id: int | None = None,
    value: str = "",
) -> State:
    """Answer the step the run stands on; the first answer starts the run."""
    if not permissions.can(user, Action.EDIT, call):
        raise Denied(Action.EDIT)
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)  # one run per call, in order
        current = state(user, locked)
        if current is None or (script_id is not None and current.script.pk != script_id):
            raise ValidationError({"script": [_("No such script applies to this call.")]})
        if current.finished:
            raise ValidationError({"step": [_("The script is finished; go back to change it.")]})
        if current.step is None or current.step.pk != step_id:
            raise ValidationError(
                {"step": [_("The script has moved on in another window; reload the card.")]}
            )
        if len(current.path) >= MAX_ANSWERS:
            raise ValidationError({"step": [_("This run has too many answers.")]})
        stored, option, next_id = _value(current.step, option_id, value)
        run = current.run or Run.objects.create(
            call=locked,
            script=current.script,
            script_version=current.script.version,
            started_by=user,
        )
        Answer.objects.create(
            run=run,
            step=current.step,
            option=option,
            next_step_id=next_id,
            said=current.said,
            value=stored,
            by=user,
        )
        if current.step.kind == Step.Kind.FINAL:
            Run.objects.filter(pk=run.pk).update(finished_at=timezone.now(), finished_by=user)
            _suggest(user, locked, current.step.disposition)
    return state(user, call)  # type: ignore[return-value]


def _suggest(user: User, call: Call, disposition: Disposition | None) -> None:
    """The final step's result goes on the call unless the operator already chose one."""
    if disposition is not None and disposition.is_active and call.disposition_id is None:
        calls.save_call_card(user, call, None, {"disposition": disposition})


def back(user: User, call: Call) -> State | None:
    """Undo the last answer (kept as a row, marked undone); a finished run opens again."""
    if not permissions.can(user, Action.EDIT, call):
        raise Denied(Action.EDIT)
    with transaction.atomic():
        Call.objects.select_for_update().get(pk=call.pk)
        run = Run.objects.filter(call=call).first()
        last = run.answers.filter(undone_at=None).order_by("-id").first() if run else None
        if run is None or last is None:
            raise ValidationError({"step": [_("There is no answer to take back.")]})
        Answer.objects.filter(pk=last.pk).update(undone_at=timezone.now())
        Run.objects.filter(pk=run.pk).update(finished_at=None, finished_by=None)
    return state(user, call)
