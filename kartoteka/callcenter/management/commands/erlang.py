"""`kartoteka erlang --calls N --interval-s S --aht-s S [--agents K | --target-sl P --answer-s T |
--target-asa-s S] [--patience-s S] [--shrinkage F] [--max-occupancy F] [--json]`.

What K agents achieve, or how many are needed for a target: Erlang C, or Erlang A when a mean
patience is given. See docs/staffing.md.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kartoteka.callcenter.erlang import (
    Measures,
    Target,
    Traffic,
    agents_needed,
    measures,
    scheduled,
)

if TYPE_CHECKING:
    from kartoteka.callcenter.simulator import SimResult

KEYS = (
    "agents",
    "scheduled_agents",
    "probability_of_wait",
    "service_level",
    "asa_s",
    "occupancy",
    "abandonment",
)


def number(check: Callable[[float], bool], rule: str) -> Callable[[str], float]:
    """An argparse type: a finite number obeying `rule`; argparse names the flag on error."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or not check(value):
            raise argparse.ArgumentTypeError(f"{text!r}: must be {rule}")
        return value

    return parse


def count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r}: must be from {low:,} to {high:,}")
        return value

    return parse


FLAGS = {"target": "--target-sl / --target-asa-s"}  # library fields that are not one flag
POSITIVE = number(lambda v: v > 0, "a positive number")
NON_NEGATIVE = number(lambda v: v >= 0, "zero or more")
SHARE = number(lambda v: 0 < v < 1, "between 0 and 1, exclusive")
SHRINKAGE = number(lambda v: 0 <= v < 1, "at least 0 and below 1")
OCCUPANCY = number(lambda v: 0 < v <= 1, "above 0 and at most 1")


def add_traffic_arguments(parser: CommandParser) -> None:
    parser.add_argument("--calls", type=POSITIVE, required=True, help="calls per interval")
    parser.add_argument(
        "--interval-s", type=POSITIVE, required=True, help="interval length, seconds"
    )
    parser.add_argument(
        "--aht-s", type=POSITIVE, required=True, help="average handle time, seconds"
    )
    parser.add_argument(
        "--patience-s",
        type=POSITIVE,
        help="mean patience before hanging up, seconds (Erlang A); without it: Erlang C",
    )
    parser.add_argument(
        "--answer-s", type=NON_NEGATIVE, default=20.0, help="service level threshold (20 s)"
    )
    parser.add_argument(
        "--shrinkage", type=SHRINKAGE, default=0.0, help="share of paid time off the phones"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def report(command: BaseCommand, figures: dict[str, Any], as_json: bool, answer_s: float) -> None:
    if as_json:
        command.stdout.write(json.dumps(figures))
        return
    asa = figures["asa_s"]
    lines = [
        f"Agents: {figures['agents']} (scheduled, with shrinkage: {figures['scheduled_agents']})",
        f"Probability of wait: {figures['probability_of_wait']:.2%}",
        f"Service level ({answer_s:g} s): {figures['service_level']:.2%}",
        "ASA: " + ("unbounded (the queue grows)" if asa is None else f"{asa:.1f} s"),
        f"Occupancy: {figures['occupancy']:.2%}",
        f"Abandonment: {figures['abandonment']:.2%}",
    ]
    command.stdout.write("\n".join(lines))


def as_figures(m: Measures | SimResult, scheduled_agents: int) -> dict[str, Any]:
    return {
        "agents": m.agents,
        "scheduled_agents": scheduled_agents,
        "probability_of_wait": m.probability_of_wait,
        "service_level": m.service_level,
        "asa_s": m.asa_s if math.isfinite(m.asa_s) else None,  # JSON has no infinity
        "occupancy": m.occupancy,
        "abandonment": m.abandonment,
    }


class Command(BaseCommand):
    help = "Erlang C / Erlang A: what K agents achieve, or how many agents a target needs."

    def add_arguments(self, parser: CommandParser) -> None:
        add_traffic_arguments(parser)
        goal = parser.add_mutually_exclusive_group(required=True)
        goal.add_argument("--agents", type=count(1, 1_000_000), help="agents on the phones")
        goal.add_argument(
            "--target-sl", type=SHARE, help="service level to reach, e.g. 0.8 (with --answer-s)"
        )
        goal.add_argument("--target-asa-s", type=POSITIVE, help="average speed of answer to reach")
        parser.add_argument(
            "--max-occupancy", type=OCCUPANCY, help="cap on occupancy, e.g. 0.85 (with a target)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        traffic = Traffic(
            options["calls"], options["interval_s"], options["aht_s"], options["patience_s"]
        )
        answer_s, shrinkage = options["answer_s"], options["shrinkage"]
        if options["agents"] is not None and options["max_occupancy"] is not None:
            raise CommandError("--max-occupancy: only with --target-sl or --target-asa-s")
        target = Target(
            service_level=options["target_sl"],
            answer_s=answer_s,
            asa_s=options["target_asa_s"],
            max_occupancy=options["max_occupancy"] or 1.0,
            shrinkage=shrinkage,
        )
        try:
            if options["agents"] is not None:
                m = measures(traffic, options["agents"], answer_s)
                figures = as_figures(m, scheduled(m.agents, shrinkage))
            else:
                staffing = agents_needed(traffic, target)
                figures = as_figures(staffing.measures, staffing.scheduled_agents)
        except ValueError as exc:  # the message names the field: "patience_s: …"
            field, _, text = str(exc).partition(": ")
            flag = FLAGS.get(field, f"--{field.replace('_', '-')}")
            raise CommandError(f"{flag}: {text}") from None
        report(self, figures, options["json"], answer_s)
