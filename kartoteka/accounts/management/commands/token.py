"""`kartoteka token create --user U`: a new API token, printed once."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kartoteka.accounts.models import User
from kartoteka.accounts.services import create_token


class Command(BaseCommand):
    help = "Manage API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token for a user and print it once")
        create.add_argument("--user", required=True)
        create.add_argument("--name", default="")
        create.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["user"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"user: no active user {options['user']!r}") from None
        token, key = create_token(user, options["name"])
        if options["json"]:
            self.stdout.write(json.dumps({"id": token.pk, "user": user.username, "token": key}))
        else:
            self.stdout.write(key)
