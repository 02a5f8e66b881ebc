"""The analytics settings row and the rules and windows it gives."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from kartoteka.segments.classify import AbcRule, XyzRule
from kartoteka.segments.cycle import CycleRule
from kartoteka.segments.measures import Window
from kartoteka.segments.models import AnalyticsConfig


def current() -> AnalyticsConfig:
    config, _created = AnalyticsConfig.objects.get_or_create(
        pk=1, defaults={"currency": getattr(settings, "ANALYTICS_CURRENCY", "RUB")}
    )
    return config


def abc_rule(config: AnalyticsConfig) -> AbcRule:
    return AbcRule(a=config.abc_a, b=config.abc_b, rule=config.abc_rule)


def xyz_rule(config: AnalyticsConfig) -> XyzRule:
    return XyzRule(x=config.xyz_x, y=config.xyz_y, min_periods=config.xyz_min_periods)


def cycle_rule(config: AnalyticsConfig) -> CycleRule:
    return CycleRule(
        at_risk_days=config.at_risk_days,
        lost_days=config.lost_days,
        repeat_purchases=config.repeat_purchases,
        loyal_purchases=config.loyal_purchases,
        prospect_days=config.prospect_days,
    )


def default_window(config: AnalyticsConfig, now: dt.datetime) -> Window:
    """The last `config.months` complete calendar months before `now` (local time)."""
    today = timezone.localtime(now).date()
    end = today.replace(day=1)
    index = end.year * 12 + end.month - 1 - config.months
    return Window(dt.date(index // 12, index % 12 + 1, 1), end)


def dates_window(start: dt.date, end: dt.date) -> Window:
    """From `start` to `end`, both days included (the CLI's --from/--to)."""
    return Window(start, end + dt.timedelta(days=1))
