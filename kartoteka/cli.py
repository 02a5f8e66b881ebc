"""The `kartoteka` command: the operator's tool. Each subcommand is a Django management command."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    args = sys.argv[1:] if argv is None else argv
    from kartoteka.env import ConfigError

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["kartoteka", *args])
    except ConfigError as exc:
        sys.stderr.write(f"kartoteka: configuration error: {exc}\n")
        raise SystemExit(2) from None
