"""`kartoteka user add NAME --role ROLE [--team TEAM] [--password P]`."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kartoteka.accounts.models import Role, Team
from kartoteka.accounts.roles import DEFAULTS
from kartoteka.accounts.services import add_user


class Command(BaseCommand):
    help = "Manage users."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a user with a role")
        add.add_argument("name")
        add.add_argument(
            "--role", required=True, help=f"one of: {', '.join(DEFAULTS)} (or a custom role)"
        )
        add.add_argument(
            "--team", action="append", default=[], help="team name; repeat for several"
        )
        add.add_argument("--password", help="without it the user cannot log in until one is set")
        add.add_argument("--email", default="")
        add.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        role = Role.objects.filter(code=options["role"]).first()
        if role is None:
            codes = ", ".join(Role.objects.values_list("code", flat=True))
            raise CommandError(f"role: no role {options['role']!r}; roles: {codes}")
        teams = list(Team.objects.filter(name__in=options["team"]))
        missing = set(options["team"]) - {t.name for t in teams}
        if missing:
            raise CommandError(
                f"team: no team {sorted(missing)[0]!r}; add it with `kartoteka team add`"
            )
        try:
            user = add_user(
                None,
                options["name"],
                role,
                options["password"],
                teams=teams,
                email=options["email"],
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        if options["json"]:
            self.stdout.write(
                json.dumps({"id": user.pk, "username": user.username, "role": role.code})
            )
        else:
            self.stdout.write(f"User {user.username} ({role.code}) added.")
