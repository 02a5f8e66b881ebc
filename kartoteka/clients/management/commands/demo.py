"""`kartoteka demo --clients N [--seed S] [--interactions-per-client K] [--json]`."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kartoteka.clients import demo
from kartoteka.clients.demo_rows import Summary


class Command(BaseCommand):
    help = "Load realistic demo clients with contacts and interactions (fast bulk load)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=300, help="how many clients to add")
        parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same data")
        parser.add_argument(
            "--interactions-per-client",
            type=float,
            default=5.0,
            help="average number of interactions per client",
        )
        parser.add_argument(
            "--deals", type=int, default=0, help="also this many deals on the sales board"
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument("--progress", action="store_true", help="report each chunk on stderr")

    def handle(self, *args: Any, **options: Any) -> None:
        clients, per_client = options["clients"], options["interactions_per_client"]
        if clients < 0 or per_client < 0:
            raise CommandError("--clients and --interactions-per-client must not be negative.")
        summary = demo.load(
            clients,
            options["seed"],
            per_client,
            progress=_report if options.get("progress") else None,
        )
        figures = summary.as_dict()
        if options.get("deals"):
            from kartoteka.sales.demo import add_deals

            figures["deals"] = add_deals(options["deals"], options["seed"])
        if options.get("json"):
            self.stdout.write(json.dumps(figures))
        else:
            self.stdout.write(
                f"Loaded {figures['clients']} clients and {figures['interactions']} interactions "
                f"({figures['rows']} rows) in {figures['seconds']} s, "
                f"{figures['rows_per_second']} rows/s."
            )


def _report(done: Summary) -> None:
    sys.stderr.write(f"  {done.clients} clients, {done.rows} rows, {done.seconds:.1f} s\n")
