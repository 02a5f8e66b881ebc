"""`kartoteka serve`: the web server, and beside it the task worker and the periodic-job clock
(embedded mode) and, when AMI is configured, the Asterisk listener. Stopping serve (Ctrl-C,
SIGTERM) stops them; on Linux they also go if serve itself is killed."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from kartoteka.env import env_int

STOP_TIMEOUT_S = 10
PR_SET_PDEATHSIG = 1


def ami_configured() -> bool:
    """The Asterisk provider is chosen and has an AMI login: its events need the listener."""
    return settings.TELEPHONY_PROVIDER == "asterisk" and bool(
        settings.TELEPHONY_CONFIG.get("ami_user")
    )


def helper_commands(worker: bool, listener: bool) -> list[list[str]]:
    commands = [["worker"], ["cron", "--loop"]] if worker else []
    if listener and ami_configured():
        commands.append(["asterisk", "listen"])
    return commands


def _die_with_parent() -> Callable[[], None] | None:
    """A child's pre-exec hook asking Linux to send it SIGTERM when serve dies, even by SIGKILL
    (nothing else would stop it then); None where prctl is not available."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook


def start(commands: list[list[str]]) -> list[subprocess.Popen[bytes]]:
    hook = _die_with_parent()
    return [
        subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
            [sys.executable, "-m", "kartoteka", *command], preexec_fn=hook
        )
        for command in commands
    ]


def stop(helpers: list[subprocess.Popen[bytes]]) -> None:
    """SIGINT each helper (they stop cleanly on it), wait, then kill the ones still running."""
    for helper in helpers:
        if helper.poll() is None:
            helper.send_signal(signal.SIGINT)
    for helper in helpers:
        try:
            helper.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # uvicorn captures SIGTERM, shuts down, then raises it again against the previous handler:
    # with the default one serve died right there and its helpers ran on; this one unwinds.
    raise SystemExit(0)


class Command(BaseCommand):
    help = (
        "Serve Kartoteka over HTTP (ASGI); with the task worker unless --no-worker, and the "
        "Asterisk listener when AMI is configured unless --no-listener."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("PORT", 8000, minimum=1))
        parser.add_argument("--workers", type=int, default=1, help="web processes")
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")
        parser.add_argument(
            "--no-listener",
            action="store_true",
            help="do not start the Asterisk AMI listener (one per installation is enough)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        helpers = start(helper_commands(not options["no_worker"], not options["no_listener"]))
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
            stop(helpers)
            signal.signal(signal.SIGTERM, previous)
