"""`kartoteka createadmin --username U --password P`: an administrator, non-interactively."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kartoteka.accounts.services import create_admin


class Command(BaseCommand):
    help = "Create an administrator (or reset the password of an existing one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", help="omit to be asked for it")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or getpass.getpass("Password: ")
        try:
            user = create_admin(options["username"], password, options["email"])
        except ValidationError as exc:
            raise CommandError("password: " + " ".join(exc.messages)) from None
        self.stdout.write(f"Administrator {user.username} is ready.")
