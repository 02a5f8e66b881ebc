"""Editing a pipeline's stages (administrators): name, order, probability, kind, required fields.

A stage that holds deals (live or in the trash) cannot be deleted, and a pipeline keeps at least
one open stage, where new deals start.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.core import audit, permissions
from kartoteka.core.permissions import Action
from kartoteka.sales.models import Deal, Pipeline, Stage
from kartoteka.sales.services import REQUIRABLE


def save_stage(
    actor: User | None, pipeline: Pipeline, stage: Stage | None, fields: dict[str, Any]
) -> Stage:
    """Create (`stage` None) or change a stage of `pipeline`; errors name each field."""
    if actor is not None:
        permissions.require(actor, Action.CONFIGURE)
    with transaction.atomic():
        target = stage or Stage(pipeline=pipeline, position=pipeline.stages.count())
        was_open = stage is not None and stage.kind == Stage.Kind.OPEN
        errors: dict[str, list[str]] = {}
        target.name = " ".join(str(fields.get("name", target.name)).split())
        for name in ("probability", "kind", "position"):
            if name in fields:
                setattr(target, name, fields[name])
        required = list(fields.get("required_fields", target.required_fields))
        if any(name not in REQUIRABLE for name in required):
            errors["required_fields"] = [_("Choose among the fields a deal has.")]
        target.required_fields = [name for name in REQUIRABLE if name in required]
        try:
            target.full_clean(exclude=["pipeline"], validate_constraints=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        clash = pipeline.stages.filter(name=target.name).exclude(pk=target.pk).exists()
        if clash:
            errors.setdefault("name", []).append(_("The pipeline has a stage with this name."))
        if was_open and target.kind != Stage.Kind.OPEN and not _other_open(pipeline, target):
            errors.setdefault("kind", []).append(_("A pipeline needs at least one open stage."))
        if errors:
            raise ValidationError(errors)
        target.save()
        audit.record(actor, "configure", kind="stage", target_id=target.pk, stage=target.name)
    return target


def _other_open(pipeline: Pipeline, stage: Stage) -> bool:
    return pipeline.stages.filter(kind=Stage.Kind.OPEN).exclude(pk=stage.pk).exists()


def delete_stage(actor: User | None, stage: Stage) -> None:
    if actor is not None:
        permissions.require(actor, Action.CONFIGURE)
    with transaction.atomic():
        if Deal.all_objects.filter(stage=stage).exists() or stage.stage_changes_exist():
            raise ValidationError({"stage": [_("Deals have been in this stage: keep it.")]})
        if stage.kind == Stage.Kind.OPEN and not _other_open(stage.pipeline, stage):
            raise ValidationError({"stage": [_("A pipeline needs at least one open stage.")]})
        audit.record(actor, "configure", kind="stage", target_id=stage.pk, deleted=stage.name)
        stage.delete()
