"""`kartoteka serve`: the web server, and in embedded mode the task worker beside it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import uvicorn
from django.core.management.base import BaseCommand, CommandParser

from kartoteka.env import env_int


class Command(BaseCommand):
    help = "Serve Kartoteka over HTTP (ASGI); with the task worker unless --no-worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("PORT", 8000, minimum=1))
        parser.add_argument("--workers", type=int, default=1, help="web processes")
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")

    def handle(self, *args: Any, **options: Any) -> None:
        helpers = []
        if not options["no_worker"]:
            # The task worker and the periodic-job clock run beside the web server.
            for command in (["worker"], ["cron", "--loop"]):
                helpers.append(subprocess.Popen([sys.executable, "-m", "kartoteka", *command]))  # noqa: S603
        self.stdout.write(
            f"Kartoteka is at http://{options['host']}:{options['port']}/ (Ctrl-C stops it)"
        )
        try:
            uvicorn.run(
                "kartoteka.asgi:application",
                host=options["host"],
                port=options["port"],
                workers=options["workers"],
                lifespan="off",
                log_level="info",
            )
        finally:
            for helper in helpers:
                helper.send_signal(signal.SIGINT)
            for helper in helpers:
                try:
                    helper.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    helper.kill()
