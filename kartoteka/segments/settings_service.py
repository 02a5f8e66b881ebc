"""Writes of the analytics settings, and queuing a recompute: administrators only."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.core import audit, permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.permissions import Action
from kartoteka.segments.config import current
from kartoteka.segments.models import AnalyticsConfig

EDITABLE = (
    "currency", "months", "abc_a", "abc_b", "abc_rule", "xyz_x", "xyz_y", "xyz_min_periods",
    "at_risk_days", "lost_days", "repeat_purchases", "loyal_purchases", "prospect_days",
)  # fmt: skip


def _check(config: AnalyticsConfig) -> None:
    errors: dict[str, list[str]] = {}
    if config.abc_rule not in AnalyticsConfig.AbcRule.values:
        errors["abc_rule"] = [_("Choose own or crossing.")]
    if not 0 < config.abc_a <= config.abc_b <= 100:
        errors["abc_b"] = [_("B must be at least A, and at most 100.")]
    if config.xyz_x > config.xyz_y:
        errors["xyz_y"] = [_("Y must be at least X.")]
    if config.at_risk_days > config.lost_days:
        errors["lost_days"] = [_("Lost must come after at risk.")]
    if config.repeat_purchases > config.loyal_purchases:
        errors["loyal_purchases"] = [_("Loyal needs at least as many purchases as repeat.")]
    if errors:
        raise ValidationError(errors)


def configure(actor: User, expected_version: int, values: dict[str, Any]) -> AnalyticsConfig:
    permissions.require(actor, Action.CONFIGURE)
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: [_("This field cannot be set.")]})
    current()  # the row exists
    with transaction.atomic():
        config = AnalyticsConfig.objects.select_for_update().get(pk=1)
        if config.version != expected_version:
            raise StaleVersion(config.version)
        changes = {}
        for name, value in values.items():
            if value is not None and getattr(config, name) != value:
                changes[name] = [str(getattr(config, name)), str(value)]
                setattr(config, name, value)
        _check(config)
        config.version += 1
        config.save()
        audit.record(actor, "configure", kind="analytics", target_id=1, **changes)
    return config


def queue_recompute(actor: User) -> None:
    from kartoteka.segments.tasks import recompute_classes

    permissions.require(actor, Action.CONFIGURE)
    audit.record(actor, "configure", kind="analytics", target_id=1, recompute=True)
    transaction.on_commit(recompute_classes.enqueue)
