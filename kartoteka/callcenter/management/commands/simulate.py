"""`kartoteka simulate --calls N --interval-s S --aht-s S --agents K [--patience-s S]
[--answer-s T] [--sim-calls M] [--seed X] [--json]`.

Simulates M calls (Poisson arrivals at N per S seconds, exponential handle and patience times,
identical agents, first come first served) through the real router and reports the figures
`kartoteka erlang` computes, measured instead.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kartoteka.callcenter.erlang import scheduled
from kartoteka.callcenter.management.commands.erlang import (
    add_traffic_arguments,
    as_figures,
    count,
    report,
)
from kartoteka.callcenter.simulator import SimConfig, simulate


class Command(BaseCommand):
    help = "Simulate the contact centre call by call through the real router."

    def add_arguments(self, parser: CommandParser) -> None:
        add_traffic_arguments(parser)
        parser.add_argument(
            "--agents", type=count(1, 100_000), required=True, help="agents on the phones"
        )
        parser.add_argument(
            "--sim-calls",
            type=count(100, 10_000_000),
            default=100_000,
            help="calls to simulate (the first 10 %% warm the queue up and are not measured)",
        )
        parser.add_argument("--seed", type=count(0, 2**63), default=1, help="random seed")

    def handle(self, *args: Any, **options: Any) -> None:
        config = SimConfig(
            calls=options["sim_calls"],
            arrival_rate=options["calls"] / options["interval_s"],
            handle_s=options["aht_s"],
            patience_s=options["patience_s"],
            agents=options["agents"],
            answer_s=options["answer_s"],
            seed=options["seed"],
        )
        try:
            result = simulate(config)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        figures = as_figures(result, scheduled(result.agents, options["shrinkage"]))
        report(self, figures, options["json"], options["answer_s"])
