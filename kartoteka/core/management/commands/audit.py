"""`kartoteka audit verify`: check the audit log's hash chain."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kartoteka.core import audit
from kartoteka.core.models import AuditEntry


class Command(BaseCommand):
    help = "Audit log tools."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="check the hash chain; name the first broken entry")
        verify.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        broken = audit.verify()
        total = AuditEntry.objects.count()
        if options.get("json"):
            self.stdout.write(
                json.dumps({"entries": total, "first_broken": broken.pk if broken else None})
            )
        elif broken is None:
            self.stdout.write(f"OK: {total} entries, the chain is intact.")
        else:
            self.stderr.write(
                f"BROKEN at entry {broken.pk} ({broken.at:%Y-%m-%d %H:%M:%S} {broken.actor_name} "
                f"{broken.action}): its hash does not match its content or the entry before it."
            )
        if broken is not None:
            sys.exit(1)
