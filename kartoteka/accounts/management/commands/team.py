"""`kartoteka team add NAME --head USER`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kartoteka.accounts.models import Team, User
from kartoteka.accounts.services import save_team


class Command(BaseCommand):
    help = "Manage teams."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a team (department) with a head")
        add.add_argument("name")
        add.add_argument("--head", help="user name of the head")
        add.add_argument(
            "--member", action="append", default=[], help="user name; repeat for several"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if Team.objects.filter(name=options["name"]).exists():
            raise CommandError(f"name: team {options['name']!r} already exists")
        names = [n for n in [options["head"], *options["member"]] if n]
        users = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
        missing = [n for n in names if n not in users]
        if missing:
            raise CommandError(f"user: no active user {missing[0]!r}")
        head = users.get(options["head"]) if options["head"] else None
        members = [users[n] for n in options["member"]]
        save_team(None, Team(), options["name"], head, members)
        self.stdout.write(f"Team {options['name']} added.")
