"""`python -m bench [--clients N] [--db sqlite,postgresql] [--reload]` (see bench/__init__.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import report
from bench.databases import VAR, Target, postgres_reachable, reset, targets
from bench.worker import EXIT_SIZE_MISMATCH

SECRET = "bench-only-secret-key-not-for-production-0123456789"  # noqa: S105 - bench only


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--interactions-per-client", type=float, default=5.0)
    parser.add_argument("--requests", type=int, default=200, help="requests per page (≥ 200)")
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--sqlite-path", type=Path, default=VAR / "bench.sqlite3")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/kartoteka_bench")
    parser.add_argument("--reload", action="store_true", help="load the data afresh")
    parser.add_argument("--out", type=Path, default=VAR / "bench-results.json")
    return parser.parse_args(argv)


def _worker(target: Target, args: argparse.Namespace, out: Path) -> int:
    env = os.environ | {
        "DATABASE_URL": target.url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", SECRET),
        "DEBUG": "0",
        "KARTOTEKA_EMBEDDED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "bench.worker",
        "--clients",
        str(args.clients),
        "--interactions-per-client",
        str(args.interactions_per_client),
        "--requests",
        str(args.requests),
        "--load-file",
        str(VAR / f"bench-load-{target.vendor}-{target.name}.json"),
        "--out",
        str(out),
    ]
    return subprocess.run(command, env=env, check=False).returncode  # noqa: S603


def run_target(target: Target, args: argparse.Namespace) -> dict[str, Any] | None:
    if target.vendor == "postgresql" and not postgres_reachable(target.url):
        sys.stderr.write(f"bench: PostgreSQL is not reachable at {target.url}; skipped\n")
        return None
    reset(target, fresh=args.reload)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        code = _worker(target, args, out)
        if code == EXIT_SIZE_MISMATCH:
            sys.stderr.write(f"bench: reloading the {target.label} bench database\n")
            reset(target, fresh=True)
            code = _worker(target, args, out)
        if code != 0:
            raise SystemExit(f"bench: the {target.label} run failed (exit {code})")
        return json.loads(out.read_text()) | {"label": target.label}


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    VAR.mkdir(parents=True, exist_ok=True)
    chosen = targets(args.db.split(","), args.sqlite_path, args.pg_url)
    results = [r for r in (run_target(t, args) for t in chosen) if r is not None]
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    args.out.write_text(
        json.dumps(
            {"date": stamp, "command": command, "results": results}, ensure_ascii=False, indent=1
        )
    )
    print(f"Kartoteka bench, {stamp}: `{command.strip()}`\n")
    print(report.markdown(results))
    print(f"JSON: {args.out}")


main()
