"""A staffing plan per interval: volumes (from history or a typed forecast) through erlang.py.

The page and the API fill one `Inputs` and call `plan()`; every refusal is a ValidationError
keyed by the input's name (`forecast` names the bad row), so both can point at the field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from kartoteka.callcenter import erlang

Source = Literal["history", "forecast"]
Span = Literal["day", "week"]
INTERVALS = (15, 30, 60)
MAX_ROWS = 7 * 24 * 4  # a week of quarter hours
MAX_CALLS = 1_000_000.0  # per interval
# The CPU one plan may cost, in units of about 0.1 µs: per interval, its offered Erlangs (the
# Erlang B table grows to the agents needed), and with a patience (Erlang A) a fixed cost plus
# WAIT_TERM units per √(calls per second × patience) (the waiting sums run that long). Measured:
# a week of quarter hours at 1,000 Erlangs with a 2-minute patience is 1.3e7 (1.2 s).
MAX_WORK = 20_000_000
ERLANG_A_FIXED = 5_000
WAIT_TERM = 700
NUMBER_RE = re.compile(r"^[+]?\d+(?:[.,]\d+)?$")


@dataclass
class Inputs:
    source: Source = "forecast"
    span: Span = "day"
    interval_minutes: int = 30
    day_start: int = 8  # hour the first interval starts (history: also the day's window)
    day_end: int = 20
    queue: str = ""  # history: one queue's calls, "" for all
    weeks: int = 4  # history: how far back
    forecast: list[float] = field(default_factory=list)
    aht_s: float | None = None  # forecast: required unless history has one
    target_sl: float | None = 0.8
    answer_s: float = 20.0
    target_asa_s: float | None = None
    shrinkage: float = 0.3
    max_occupancy: float = 0.85
    patience_s: float | None = None


@dataclass
class Volumes:
    """Calls per interval and the handle time, with the interval labels."""

    labels: list[str]
    calls: list[float]
    aht_s: float | None
    days: int = 0  # history: how many days were averaged (0 for a forecast)


@dataclass
class Plan:
    inputs: Inputs
    rows: list[dict[str, Any]]
    aht_s: float
    days: int

    @property
    def totals(self) -> dict[str, float]:
        return {
            "calls": round(sum(r["calls"] for r in self.rows), 1),
            "agent_hours": round(
                sum(r["agents"] for r in self.rows) * self.inputs.interval_minutes / 60, 1
            ),
            "scheduled_hours": round(
                sum(r["scheduled_agents"] for r in self.rows) * self.inputs.interval_minutes / 60,
                1,
            ),
            "peak_scheduled": max((r["scheduled_agents"] for r in self.rows), default=0),
        }


def parse_forecast(text: str) -> list[float]:
    """One number per line (the last cell of a pasted row: "09:00<TAB>12" gives 12); a decimal
    comma is fine. A bad line is named by its number."""
    values: list[float] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        cells = re.split(r"[\t;\s]+", line.strip())
        cell = cells[-1] if cells else ""
        if not cell:
            continue
        if not NUMBER_RE.match(cell) or float(cell.replace(",", ".")) > MAX_CALLS:
            errors.append(
                _("Row %(row)d: “%(text)s” is not a number of calls from 0 to a million.")
                % {"row": number, "text": cell[:30]}
            )
            continue
        values.append(float(cell.replace(",", ".")))
    if errors:
        raise ValidationError({"forecast": errors[:10]})
    return values


WEEKDAYS = (
    pgettext_lazy("weekday", "Mon"),
    pgettext_lazy("weekday", "Tue"),
    pgettext_lazy("weekday", "Wed"),
    pgettext_lazy("weekday", "Thu"),
    pgettext_lazy("weekday", "Fri"),
    pgettext_lazy("weekday", "Sat"),
    pgettext_lazy("weekday", "Sun"),
)


def labels(inputs: Inputs, count: int) -> list[str]:
    """ "08:00", "08:30", …; for a week "Mon 08:00" … (the day's window, day after day)."""
    per_day = slots_per_day(inputs)
    out = []
    for i in range(count):
        day, slot = divmod(i, per_day) if inputs.span == "week" else (0, i)
        minute = inputs.day_start * 60 + slot * inputs.interval_minutes
        text = f"{minute // 60 % 24:02d}:{minute % 60:02d}"
        out.append(f"{WEEKDAYS[day % 7]} {text}" if inputs.span == "week" else text)
    return out


def slots_per_day(inputs: Inputs) -> int:
    return max(1, (inputs.day_end - inputs.day_start) * 60 // inputs.interval_minutes)


def check(inputs: Inputs) -> None:
    """Refusals that no single field's type catches, each naming its field."""
    errors: dict[str, list[str]] = {}
    if inputs.interval_minutes not in INTERVALS:
        errors["interval_minutes"] = [_("Choose 15, 30 or 60 minutes.")]
    if not 0 <= inputs.day_start < inputs.day_end <= 24:
        errors["day_end"] = [_("The day must end after it starts, by 24.")]
    if (inputs.target_sl is None) == (inputs.target_asa_s is None):
        errors["target_sl"] = [_("Give a service-level target or an ASA target, one of them.")]
    if inputs.target_sl is not None and not 0 < inputs.target_sl < 1:
        errors["target_sl"] = [_("A share between 0 and 1, e.g. 0.8.")]
    if inputs.source == "forecast" and not inputs.forecast:
        errors["forecast"] = [_("Enter one number of calls per interval.")]
    if len(inputs.forecast) > MAX_ROWS:
        errors["forecast"] = [_("At most %(n)d intervals.") % {"n": MAX_ROWS}]
    if inputs.source == "history" and not 1 <= inputs.weeks <= 26:
        errors["weeks"] = [_("From 1 to 26 weeks.")]
    if errors:
        raise ValidationError(errors)


def work(calls: list[float], interval_s: float, aht_s: float, patience_s: float | None) -> float:
    """The plan's estimated cost in MAX_WORK units."""
    load = sum(calls) * aht_s / interval_s
    if patience_s is None:
        return load
    waits = sum(math.sqrt(c / interval_s * patience_s) for c in calls)
    return load + ERLANG_A_FIXED * len(calls) + WAIT_TERM * waits


def check_work(inputs: Inputs, volumes: Volumes, aht_s: float) -> None:
    """Refuse a plan too heavy for one request (a head could post a week of near-maximum loads:
    minutes of CPU) before any Erlang is computed."""
    cost = work(volumes.calls, inputs.interval_minutes * 60.0, aht_s, inputs.patience_s)
    if cost > MAX_WORK:
        field = "forecast" if inputs.source == "forecast" else "span"
        message = _(
            "Too much to compute in one plan (%(percent)d%% of the limit): plan fewer intervals, "
            "fewer calls per interval, a shorter handle time or a shorter patience."
        ) % {"percent": math.ceil(min(cost * 100 / MAX_WORK, 10**9))}
        raise ValidationError({field: [message]})


def staff(inputs: Inputs, volumes: Volumes) -> Plan:
    """Erlang C (or A with a patience) per interval; erlang's own refusals name their field."""
    aht = inputs.aht_s or volumes.aht_s
    if not aht:
        raise ValidationError(
            {"aht_s": [_("Enter the average handle time: there is no history to take it from.")]}
        )
    check_work(inputs, volumes, aht)
    target = erlang.Target(
        service_level=inputs.target_sl,
        answer_s=inputs.answer_s,
        asa_s=inputs.target_asa_s,
        max_occupancy=inputs.max_occupancy,
        shrinkage=inputs.shrinkage,
    )
    interval_s = inputs.interval_minutes * 60.0
    try:
        staffed = erlang.staff_intervals(volumes.calls, interval_s, aht, target, inputs.patience_s)
    except ValueError as exc:
        name, _sep, message = str(exc).partition(":")
        key = {"calls": "forecast", "target": "target_sl"}.get(name, name)
        raise ValidationError({key: [message.strip() or str(exc)]}) from None
    rows = [
        {
            "interval": label,
            "calls": round(calls, 2),
            "aht_s": round(aht, 1),
            "agents": s.agents,
            "scheduled_agents": s.scheduled_agents,
            "probability_of_wait": s.measures.probability_of_wait,
            "service_level": s.measures.service_level,
            "asa_s": s.measures.asa_s if math.isfinite(s.measures.asa_s) else None,
            "occupancy": s.measures.occupancy,
            "abandonment": s.measures.abandonment,
        }
        for label, calls, s in zip(volumes.labels, volumes.calls, staffed, strict=True)
    ]
    return Plan(inputs=inputs, rows=rows, aht_s=aht, days=volumes.days)


def forecast_volumes(inputs: Inputs) -> Volumes:
    return Volumes(labels(inputs, len(inputs.forecast)), list(inputs.forecast), None)
