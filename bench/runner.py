"""What the stand-alone benches (imports, kanban, forecast) share: a fresh database per target,
a worker process with its own DATABASE_URL, and the results written and printed."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.databases import VAR, Target, postgres_reachable, reset, targets

SECRET = "bench-only-secret-key-not-for-production-0123456789"  # noqa: S105 - bench only


def run_worker(
    target: Target, command: list[str], fresh: bool = True, **env: str
) -> dict[str, Any]:
    """Start `target` afresh (or keep it), run `python <command>` against it; its last stdout
    line (JSON)."""
    reset(target, fresh=fresh)
    variables = os.environ | {
        "DATABASE_URL": target.url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", SECRET),
        "DEBUG": "0",
        **env,
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, *command], env=variables, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def each_target(
    names: str, sqlite_path: Path, pg_url: str, measure: Callable[[Target], dict[str, Any]]
) -> list[dict[str, Any]]:
    """`measure` on every reachable database named in `names`, labelled."""
    results = []
    for target in targets(names.split(","), sqlite_path, pg_url):
        if target.vendor == "postgresql" and not postgres_reachable(target.url):
            sys.stderr.write(f"bench: PostgreSQL is not reachable at {target.url}; skipped\n")
            continue
        results.append(measure(target) | {"label": target.label})
    return results


def publish(name: str, title: str, table: str, results: list[dict[str, Any]]) -> None:
    """Write var/bench-<name>-results.json and print the Markdown table."""
    VAR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    out = VAR / f"bench-{name}-results.json"
    out.write_text(json.dumps({"date": stamp, "results": results}, indent=1, default=str))
    print(f"{title}, {stamp}\n\n{table}\n\nJSON: {out}")


def target_parser(
    module: str, doc: str | None, db_name: str, db: str = "postgresql,sqlite", worker: bool = True
) -> argparse.ArgumentParser:
    """The flags every per-target bench takes: --db, --sqlite-path and --pg-url (named after
    `db_name`) and, for benches that re-run themselves in a worker, a hidden --worker."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{module}", description=doc)
    parser.add_argument("--db", default=db)
    parser.add_argument("--sqlite-path", type=Path, default=VAR / f"bench-{db_name}.sqlite3")
    parser.add_argument(
        "--pg-url", default=f"postgres://postgres@127.0.0.1:5432/kartoteka_bench_{db_name}"
    )
    if worker:
        parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser


def measure_targets(
    args: argparse.Namespace,
    worker: Callable[[argparse.Namespace], None],
    run: Callable[[Target, argparse.Namespace], dict[str, Any]],
) -> list[dict[str, Any]] | None:
    """In the worker process: `worker(args)` and None; else `run` on every target named."""
    if args.worker:
        worker(args)
        return None
    return each_target(args.db, args.sqlite_path, args.pg_url, lambda t: run(t, args))
