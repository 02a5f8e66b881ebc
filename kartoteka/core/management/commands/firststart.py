"""`kartoteka firststart`: migrate; on the very first start, demo data and an administrator."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from kartoteka.accounts.models import User
from kartoteka.accounts.services import create_admin
from kartoteka.env import env_int


class Command(BaseCommand):
    help = "Prepare the embedded installation: migrate, demo data and an administrator once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo-clients", type=int, default=300)

    def handle(self, *args: Any, **options: Any) -> None:
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        login_file = settings.VAR_DIR / "first-login.json"
        if not User.objects.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            create_admin("admin", password)
            login_file.write_text(json.dumps({"username": "admin", "password": password}))
            login_file.chmod(0o600)
            deals = min(options["demo_clients"] // 5, 200)
            call_command("demo", clients=options["demo_clients"], seed=1, deals=deals)
            call_command("demo_calls", days=14, seed=1)
        self.stdout.write(f"\nKartoteka: http://127.0.0.1:{env_int('PORT', 8000, minimum=1)}/")
        if login_file.exists():
            login = json.loads(login_file.read_text())
            self.stdout.write(
                f"Log in as {login['username']} / {login['password']} (kept in {login_file})\n"
            )
