"""`kartoteka retention apply [--json]`: apply the data retention rules now."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kartoteka.clients.privacy import apply_retention


class Command(BaseCommand):
    help = "Data retention."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("apply", help="erase what has outlived its retention rule")
        run.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        done = apply_retention()
        if options["json"]:
            self.stdout.write(json.dumps(done))
        else:
            for kind, count in done.items():
                self.stdout.write(f"{kind}: {count}")
