"""One database, in its own process (DATABASE_URL set by `python -m bench`): prepare, measure.

Exit status 3 means the database holds another number of clients and must be reloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import django

EXIT_SIZE_MISMATCH = 3


def _signed_in(user: Any) -> Any:
    """A client with a session for the pages and a bearer token for the API."""
    from django.test import Client as HttpClient

    from kartoteka.accounts.services import create_token

    _token, key = create_token(user, "bench")
    http = HttpClient(headers={"Authorization": f"Bearer {key}"})
    http.force_login(user)
    return http


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--interactions-per-client", type=float, default=5.0)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--load-file", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    return parser.parse_args(argv)


def _owner_scoped(state: Any) -> bool:
    from kartoteka.clients.models import Client
    from kartoteka.core import permissions
    from kartoteka.core.permissions import Action

    every = Client.objects.all()
    mine = permissions.scope(state.manager, Action.VIEW, every)
    return str(mine.query) != str(permissions.scope(state.admin, Action.VIEW, every).query)


def run(args: argparse.Namespace) -> dict[str, Any]:

    from bench import pages
    from bench.prepare import prepare

    state = prepare(args.clients, args.interactions_per_client, args.load_file)
    owners = list(
        type(state.manager)
        .objects.filter(username__startswith="manager")
        .values_list("id", flat=True)
    )
    before = os.getloadavg()
    admin = _signed_in(state.admin)
    results = [
        pages.measure(admin, p, args.requests) for p in pages.pages(state, owners, args.requests)
    ]
    scoped = _owner_scoped(state)
    if scoped:
        manager = _signed_in(state.manager)
        for page in pages.manager_pages(state.manager, args.requests):
            results.append(pages.measure(manager, page, args.requests))
    return {
        "vendor": state.vendor,
        "clients": state.clients,
        "interactions": state.interactions,
        "heavy_client_id": state.heavy_id,
        "load": state.load,
        "load_reused": state.reused,
        "manager_scoped_by_owner": scoped,
        "loadavg": f"{before[0]:.1f} / {os.getloadavg()[0]:.1f}",
        "pages": [asdict(r) | {"met": r.met} for r in results],
    }


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    django.setup()
    from bench.prepare import SizeMismatch

    try:
        result = run(args)
    except SizeMismatch as exc:
        sys.stderr.write(f"bench: {exc}\n")
        return EXIT_SIZE_MISMATCH
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
