"""Every write to call scripts and their steps (the editor, the API). A run's writes are in
`runner`. Each change names the version it read and bumps it; a script in use never has errors
in its graph (see `graph.check`): take it out of use to rebuild it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.callcenter import access
from kartoteka.callcenter.models import Disposition, Queue
from kartoteka.callscripts import graph
from kartoteka.callscripts.models import Option, Script, Step
from kartoteka.core import audit
from kartoteka.core.errors import check_version

MAX_NAME = 120
MAX_TEXT = 4000
MAX_LABEL = 200
MAX_OPTIONS = 20
MAX_STEPS = 200


@dataclass
class ScriptData:
    name: str
    direction: str = ""
    is_active: bool = False
    queues: list[Queue] = field(default_factory=list)


@dataclass
class OptionData:
    label: str
    next_step_id: int | None = None
    id: int | None = None


@dataclass
class StepData:
    text: str
    kind: str = Step.Kind.TEXT
    position: int | None = None
    next_step_id: int | None = None
    no_step_id: int | None = None
    disposition: Disposition | None = None
    options: list[OptionData] = field(default_factory=list)


# --- reads the editor and the runner share ----------------------------------------------------


def live_steps(script: Script) -> list[Step]:
    """The script's steps in order, with their options (two queries)."""
    options = Prefetch("options", queryset=Option.objects.order_by("position", "id"))
    return list(
        Step.objects.filter(script=script)
        .select_related("disposition")
        .order_by("position", "id")
        .prefetch_related(options)
    )


def nodes(steps: list[Step]) -> list[graph.Node]:
    return [
        graph.Node(
            id=step.pk,
            number=number,
            kind=step.kind,
            next_step=step.next_step_id,
            no_step=step.no_step_id,
            options=[(o.label, o.next_step_id) for o in step.options.all()],
            text=step.text,
        )
        for number, step in enumerate(steps, start=1)
    ]


def problems(script: Script) -> graph.Problems:
    return graph.check(nodes(live_steps(script)))


# --- scripts ----------------------------------------------------------------------------------


def _check_script(data: ScriptData) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > MAX_NAME:
        errors["name"] = [_("At most %(n)d characters.") % {"n": MAX_NAME}]
    if data.direction not in Script.Direction.values:
        errors["direction"] = [_("Choose inbound, outbound or any.")]
    return errors


def _locked(script: Script, expected_version: int | None) -> Script:
    row = Script.objects.select_for_update().filter(pk=script.pk).first()
    if row is None:
        raise ValidationError(_("This script is in the trash."))
    check_version(row, expected_version)
    return row


def _refuse_broken(row: Script) -> None:
    """A script in use keeps a whole graph: an edit that breaks it is refused, with why."""
    if not row.is_active:
        return
    found = problems(row)
    if found.errors:
        message = _("The script is in use and this would break it: %(errors)s") % {
            "errors": " ".join(found.errors)
        }
        raise ValidationError({"is_active": [message]})


def create_script(actor: User, data: ScriptData) -> Script:
    access.require_runs_centre(actor)
    errors = _check_script(data)
    if data.is_active:
        errors.setdefault("is_active", []).append(_("Add the steps first, then put it in use."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        script = Script.objects.create(name=data.name.strip(), direction=data.direction)
        script.queues.set(data.queues)
        audit.record(actor, "create", script)
    return script


def update_script(
    actor: User, script: Script, expected_version: int | None, data: ScriptData
) -> Script:
    access.require_runs_centre(actor)
    errors = _check_script(data)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = _locked(script, expected_version)
        row.name, row.direction, row.is_active = data.name.strip(), data.direction, data.is_active
        row.version += 1
        row.save()
        row.queues.set(data.queues)
        _refuse_broken(row)
        audit.record(actor, "update", row, version=row.version)
    return row


def trash_script(actor: User, script: Script) -> None:
    """To the trash: out of use; runs on past calls keep it and still show their path."""
    access.require_runs_centre(actor)
    with transaction.atomic():
        moved = Script.objects.filter(pk=script.pk).update(
            deleted_at=timezone.now(), is_active=False
        )
        if moved:
            audit.record(actor, "delete", script)


def restore_script(actor: User, script: Script) -> None:
    access.require_runs_centre(actor)
    with transaction.atomic():
        if Script.all_objects.filter(pk=script.pk, deleted_at__isnull=False).update(
            deleted_at=None
        ):
            audit.record(actor, "restore", script)


# --- steps ------------------------------------------------------------------------------------


def _check_step(row: Script, step: Step | None, data: StepData) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    text = data.text.strip()
    if not text:
        errors["text"] = [_("This field is required.")]
    elif len(text) > MAX_TEXT:
        errors["text"] = [_("At most %(n)d characters.") % {"n": MAX_TEXT}]
    if data.kind not in Step.Kind.values:
        errors["kind"] = [_("There is no such kind of answer.")]
    ids = set(Step.objects.filter(script=row).values_list("pk", flat=True))
    gone = _("There is no such step in this script.")
    for name in ("next_step_id", "no_step_id"):
        target = getattr(data, name)
        if target is not None and target not in ids:
            errors[name.removesuffix("_id")] = [gone]
    if data.disposition is not None and not data.disposition.is_active:
        errors["disposition"] = [_("This result is no longer in use.")]
    if data.kind != Step.Kind.CHOICE and data.options:
        errors["options"] = [_("Only a choice step has options.")]
    if len(data.options) > MAX_OPTIONS:
        errors["options"] = [_("At most %(n)d options.") % {"n": MAX_OPTIONS}]
    own = set(step.options.values_list("pk", flat=True)) if step else set()
    for index, option in enumerate(data.options[:MAX_OPTIONS]):
        label = option.label.strip()
        if not label:
            errors[f"options.{index}.label"] = [_("This field is required.")]
        elif len(label) > MAX_LABEL:
            errors[f"options.{index}.label"] = [_("At most %(n)d characters.") % {"n": MAX_LABEL}]
        if option.next_step_id is not None and option.next_step_id not in ids:
            errors[f"options.{index}.next_step"] = [gone]
        if option.id is not None and option.id not in own:
            errors[f"options.{index}.id"] = [_("There is no such option of this step.")]
    if step is None and len(ids) >= MAX_STEPS:
        errors["__all__"] = [_("At most %(n)d steps in a script.") % {"n": MAX_STEPS}]
    return errors


def save_step(
    actor: User, script: Script, expected_version: int | None, step: Step | None, data: StepData
) -> Step:
    """Add a step (step is None) or change one, with its options (the list replaces them)."""
    access.require_runs_centre(actor)
    with transaction.atomic():
        row = _locked(script, expected_version)
        if step is not None and step.script_id != row.pk:
            raise ValidationError(_("There is no such step in this script."))
        errors = _check_step(row, step, data)
        if errors:
            raise ValidationError(errors)
        if step is None:
            step = Step(script=row)
            last = Step.objects.filter(script=row).aggregate(m=Max("position"))["m"]
            step.position = (last or 0) + 1
        if data.position is not None:
            step.position = data.position
        step.text, step.kind = data.text.strip(), data.kind
        keeps_next = data.kind not in (Step.Kind.FINAL, Step.Kind.CHOICE)
        step.next_step_id = data.next_step_id if keeps_next else None
        step.no_step_id = data.no_step_id if data.kind == Step.Kind.YESNO else None
        step.disposition = data.disposition if data.kind == Step.Kind.FINAL else None
        step.save()
        _replace_options(step, data.options)
        row.version += 1
        row.save(update_fields=["version", "updated_at"])
        _refuse_broken(row)
        audit.record(actor, "update", row, step=step.pk, version=row.version)
    return step


def _replace_options(step: Step, options: list[OptionData]) -> None:
    kept = [o.id for o in options if o.id is not None]
    step.options.exclude(pk__in=kept).delete()  # answers keep the label they copied
    for position, data in enumerate(options, start=1):
        values = {"label": data.label.strip(), "next_step_id": data.next_step_id}
        if data.id is None:
            Option.objects.create(step=step, position=position, **values)
        else:
            Option.objects.filter(pk=data.id, step=step).update(position=position, **values)


def delete_step(actor: User, script: Script, expected_version: int | None, step: Step) -> None:
    """Soft delete, refused while another step or option leads to it (no dangling links)."""
    access.require_runs_centre(actor)
    with transaction.atomic():
        row = _locked(script, expected_version)
        steps = live_steps(row)
        numbers = {s.pk: n for n, s in enumerate(steps, start=1)}
        if step.pk not in numbers:
            raise ValidationError(_("There is no such step in this script."))
        pointing = sorted(
            {
                numbers[s.pk]
                for s in steps
                if s.pk != step.pk
                and step.pk
                in (s.next_step_id, s.no_step_id, *(o.next_step_id for o in s.options.all()))
            }
        )
        if pointing:
            listed = ", ".join(str(n) for n in pointing)
            raise ValidationError(
                _("Steps %(steps)s lead to this step: point them elsewhere first.")
                % {"steps": listed}
            )
        Step.objects.filter(pk=step.pk).update(deleted_at=timezone.now())
        row.version += 1
        row.save(update_fields=["version", "updated_at"])
        _refuse_broken(row)
        audit.record(actor, "update", row, deleted_step=step.pk, version=row.version)


def step_numbers(steps: list[Step]) -> dict[int, int]:
    return {step.pk: number for number, step in enumerate(steps, start=1)}


def script_data(values: dict[str, Any]) -> ScriptData:
    return ScriptData(
        name=values.get("name") or "",
        direction=values.get("direction") or "",
        is_active=bool(values.get("is_active")),
        queues=list(values.get("queues") or []),
    )
