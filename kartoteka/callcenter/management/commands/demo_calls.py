"""`kartoteka demo_calls [--days 14] [--seed 1] [--json]`: demo operators, queues and calls,
and the contact centre's demo settings (skills, routing, voice menu, scripts, scorecard)."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kartoteka.callcenter import demo, demo_apps


class Command(BaseCommand):
    help = "Add demo operators, queues and a couple of weeks of calls (once; seeded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=14, help="days of calls up to yesterday")
        parser.add_argument(
            "--seed", type=int, default=1, help="the same seed gives the same calls"
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 <= options["days"] <= 366:
            raise CommandError("--days must be from 0 to 366.")
        started = time.monotonic()
        figures = demo.load(options["days"], options["seed"])
        settings = demo_apps.load()  # skills, routing, voice menu, scripts, scorecard
        figures["seconds"] = round(time.monotonic() - started, 2)  # type: ignore[assignment]
        if options["json"]:
            self.stdout.write(json.dumps({**figures, "settings": settings}))
        else:
            self.stdout.write(
                f"Added {figures['calls']} calls, {figures['status_rows']} operator status rows "
                f"and {figures['callbacks']} call-backs in {figures['seconds']} s."
            )
            added = ", ".join(f"{n} {what}" for what, n in settings.items() if n)
            self.stdout.write(f"Demo settings added: {added or 'none'}.")
