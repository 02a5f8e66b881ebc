"""Every write of the ACD settings: skills, the skills matrix, a queue's routing.

Supervisors (a role that may edit everyone's calls) and administrators only. Bad input is
refused whole, with errors keyed by the field ("cells.3.level", "overflow.0.target_id") so pages
and the API name the cell; a write based on an old read is refused (StaleCell / StaleVersion).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.callcenter import access
from kartoteka.callcenter.acd_models import (
    MAX_LEVEL,
    MAX_WAIT_S,
    MIN_LEVEL,
    OperatorSkill,
    QueueOverflow,
    QueueRouting,
    QueueSkill,
    Skill,
)
from kartoteka.callcenter.models import Operator, Queue
from kartoteka.clients.models import Tag
from kartoteka.core import audit
from kartoteka.core.errors import StaleVersion, check_version

MAX_CELLS = 1000
MAX_OVERFLOW = 5
LEVEL_RE = re.compile(r"[0-9]{1,2}")


def level_error() -> str:
    return _("Enter a whole number from %(min)d to %(max)d.") % {"min": MIN_LEVEL, "max": MAX_LEVEL}


def parse_level(raw: object) -> int | None:
    """A level typed into a cell: "" clears it; anything but 1–10 ("0", "11", "²", "1e9") raises
    ValueError (`"²".isdigit()` is True, so digits are matched, not tested)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        text = str(raw)
    elif isinstance(raw, str):
        text = raw.strip()
    elif raw is None:
        return None
    else:
        raise ValueError(level_error())
    if text == "":
        return None
    if not LEVEL_RE.fullmatch(text) or not MIN_LEVEL <= int(text) <= MAX_LEVEL:
        raise ValueError(level_error())
    return int(text)


# --- skills -----------------------------------------------------------------------------------


def _skill_name(name: str, skill: Skill | None = None) -> str:
    text = (name or "").replace("\x00", "").strip()
    if not text or len(text) > 60:
        raise ValidationError({"name": [_("Enter a name of 1 to 60 characters.")]})
    clash = Skill.objects.filter(name__iexact=text)
    if skill is not None:
        clash = clash.exclude(pk=skill.pk)
    if clash.exists():
        raise ValidationError({"name": [_("There is already a skill with this name.")]})
    return text


def save_skill(actor: User, name: str, skill: Skill | None = None) -> Skill:
    """Create a skill, or rename one."""
    access.require_routing(actor)
    text = _skill_name(name, skill)
    try:
        with transaction.atomic():
            row = skill or Skill()
            row.name = text
            row.save()
            audit.record(actor, "configure", row, name=text)
    except IntegrityError:  # a concurrent create of the same name
        raise ValidationError({"name": [_("There is already a skill with this name.")]}) from None
    return row


def delete_skill(actor: User, skill: Skill) -> None:
    """Remove a skill and its matrix cells; refused while a queue requires it."""
    access.require_routing(actor)
    queues = list(
        Queue.objects.filter(required_skills__skill=skill).values_list("name", flat=True)[:5]
    )
    if queues:
        raise ValidationError(
            {"skill": [_("Queues require this skill: %(queues)s.") % {"queues": ", ".join(queues)}]}
        )
    try:
        with transaction.atomic():
            skill.delete()
            audit.record(actor, "configure", kind="skill", target_id="", removed=skill.name)
    except ProtectedError:  # a queue came to require it meanwhile
        raise ValidationError({"skill": [_("A queue requires this skill.")]}) from None


# --- the matrix -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellIn:
    operator_id: int
    skill_id: int
    level: int | None  # None: the operator lacks the skill
    version: int  # the cell's version as read; 0 for an empty cell


class StaleCell(StaleVersion):
    """Someone changed this cell since it was read."""

    def __init__(self, index: int, current_version: int, level: int | None) -> None:
        super().__init__(current_version)
        self.index, self.level = index, level


def set_cells(actor: User, cells: Sequence[CellIn]) -> list[OperatorSkill | None]:
    """Write matrix cells, all or none; each must still be at the version it was read at."""
    access.require_routing(actor)
    if not 1 <= len(cells) <= MAX_CELLS:
        raise ValidationError({"cells": [_("Send 1 to %(n)d cells.") % {"n": MAX_CELLS}]})
    operators = set(
        Operator.objects.filter(pk__in={c.operator_id for c in cells}).values_list("pk", flat=True)
    )
    skills = set(
        Skill.objects.filter(pk__in={c.skill_id for c in cells}).values_list("pk", flat=True)
    )
    errors: dict[str, list[str]] = {}
    for i, cell in enumerate(cells):
        if cell.operator_id not in operators:
            errors[f"cells.{i}.operator_id"] = [_("There is no such operator.")]
        if cell.skill_id not in skills:
            errors[f"cells.{i}.skill_id"] = [_("There is no such skill.")]
        if cell.level is not None and not MIN_LEVEL <= cell.level <= MAX_LEVEL:
            errors[f"cells.{i}.level"] = [level_error()]
    if len({(c.operator_id, c.skill_id) for c in cells}) != len(cells):
        errors["cells"] = [_("Each cell may be sent once.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rows = OperatorSkill.objects.select_for_update().filter(
            operator_id__in=operators, skill_id__in=skills
        )
        current = {(r.operator_id, r.skill_id): r for r in rows}
        for i, cell in enumerate(cells):
            row = current.get((cell.operator_id, cell.skill_id))
            if (row.version if row else 0) != cell.version:
                raise StaleCell(i, row.version if row else 0, row.level if row else None)
        saved = [
            _write_cell(cell, current.get((cell.operator_id, cell.skill_id))) for cell in cells
        ]
        audit.record(
            actor,
            "configure",
            kind="operatorskill",
            target_id="",
            cells=[[c.operator_id, c.skill_id, c.level] for c in cells[:100]],
        )
    return saved


def _write_cell(cell: CellIn, row: OperatorSkill | None) -> OperatorSkill | None:
    if cell.level is None:
        if row is not None:
            row.delete()
        return None
    if row is None:
        return OperatorSkill.objects.create(
            operator_id=cell.operator_id, skill_id=cell.skill_id, level=cell.level
        )
    if row.level != cell.level:
        row.level = cell.level
        row.version += 1
        row.save(update_fields=["level", "version"])
    return row


# --- a queue's routing ------------------------------------------------------------------------


@dataclass(frozen=True)
class OverflowIn:
    after_wait_s: int
    level_drop: int | None = None
    target_id: int | None = None


@dataclass(frozen=True)
class QueueConfigIn:
    strategy: str = "longest_idle"
    sticky_wait_s: int = 0
    escalate_after_s: int | None = None
    use_abc: bool = True
    vip_tag_id: int | None = None
    required: dict[int, int] = field(default_factory=dict)  # skill id -> minimum level
    overflow: tuple[OverflowIn, ...] = ()


def routing_of(queue: Queue) -> QueueRouting:
    """The queue's routing row, or an unsaved one with the defaults (version 0)."""
    row = QueueRouting.objects.filter(queue=queue).first()
    if row is None:
        row = QueueRouting(queue=queue)
        row.version = 0
    return row


def _check_config(queue: Queue, data: QueueConfigIn) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.strategy not in dict(QueueRouting.STRATEGIES):
        errors["strategy"] = [_("There is no such strategy.")]
    if not 0 <= data.sticky_wait_s <= 3600:
        errors["sticky_wait_s"] = [_("Enter 0 to 3600 seconds.")]
    if data.escalate_after_s is not None and not 0 <= data.escalate_after_s <= MAX_WAIT_S:
        errors["escalate_after_s"] = [_("Enter 0 to %(n)d seconds.") % {"n": MAX_WAIT_S}]
    if data.vip_tag_id is not None and not Tag.objects.filter(pk=data.vip_tag_id).exists():
        errors["vip_tag_id"] = [_("There is no such tag.")]
    known = set(Skill.objects.filter(pk__in=data.required).values_list("pk", flat=True))
    for i, (skill_id, level) in enumerate(data.required.items()):
        if skill_id not in known:
            errors[f"required.{i}.skill_id"] = [_("There is no such skill.")]
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            errors[f"required.{i}.min_level"] = [level_error()]
    if len(data.overflow) > MAX_OVERFLOW:
        errors["overflow"] = [_("At most %(n)d steps.") % {"n": MAX_OVERFLOW}]
    targets = {s.target_id for s in data.overflow if s.target_id is not None}
    queues = set(Queue.objects.filter(pk__in=targets).values_list("pk", flat=True))
    for i, step in enumerate(data.overflow[:MAX_OVERFLOW]):
        where = f"overflow.{i}"
        if not 0 <= step.after_wait_s <= MAX_WAIT_S:
            errors[f"{where}.after_wait_s"] = [_("Enter 0 to %(n)d seconds.") % {"n": MAX_WAIT_S}]
        if (step.level_drop is None) == (step.target_id is None):
            errors[where] = [_("Lower the levels or name another queue, one of the two.")]
        elif step.level_drop is not None and not 1 <= step.level_drop < MAX_LEVEL:
            errors[f"{where}.level_drop"] = [_("Enter 1 to %(n)d.") % {"n": MAX_LEVEL - 1}]
        elif step.target_id is not None and (
            step.target_id not in queues or step.target_id == queue.pk
        ):
            errors[f"{where}.target_id"] = [_("Choose another existing queue.")]
    return errors


def save_queue_config(
    actor: User, queue: Queue, data: QueueConfigIn, expected_version: int
) -> QueueRouting:
    """Replace the queue's routing, required skills and overflow steps, all or none."""
    access.require_routing(actor)
    errors = _check_config(queue, data)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Queue.objects.select_for_update().filter(pk=queue.pk).first()
        if locked is None:
            raise ValidationError({"queue": [_("This queue was removed.")]})
        row = routing_of(locked)
        check_version(row, expected_version)
        row.strategy, row.sticky_wait_s = data.strategy, data.sticky_wait_s
        row.escalate_after_s, row.use_abc = data.escalate_after_s, data.use_abc
        row.vip_tag_id = data.vip_tag_id
        row.version += 1
        row.save()
        QueueSkill.objects.filter(queue=locked).delete()
        QueueSkill.objects.bulk_create(
            [QueueSkill(queue=locked, skill_id=s, min_level=n) for s, n in data.required.items()]
        )
        QueueOverflow.objects.filter(queue=locked).delete()
        QueueOverflow.objects.bulk_create(
            [
                QueueOverflow(
                    queue=locked,
                    position=i,
                    after_wait_s=s.after_wait_s,
                    level_drop=s.level_drop,
                    target_id=s.target_id,
                )
                for i, s in enumerate(sorted(data.overflow, key=lambda s: s.after_wait_s))
            ]
        )
        audit.record(actor, "configure", kind="queuerouting", target_id=locked.pk)
    return row
