"""`kartoteka dedup scan [--json] [--dry-run]` and `kartoteka dedup reindex`."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kartoteka.dedup import services


class Command(BaseCommand):
    help = "Find duplicate clients (scan) or rebuild the name keys (reindex)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["scan", "reindex"])
        parser.add_argument("--json", action="store_true", help="print the pairs as JSON")
        parser.add_argument(
            "--dry-run", action="store_true", help="find the pairs, leave the review queue"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "reindex":
            done = services.reindex()
            self.stdout.write(json.dumps({"clients": done}) if options["json"] else f"{done}")
            return
        result = services.scan(save=not options["dry_run"])
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
            return
        self.stdout.write(
            f"{result.clients} clients, {len(result.pairs)} likely duplicate pairs, "
            f"{result.merged} merged automatically, {result.seconds:.1f} s"
        )
