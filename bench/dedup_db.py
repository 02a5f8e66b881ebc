"""`python -m bench.dedup_db [--clients 1000000] [--db sqlite,postgresql] [--checks 300]`

The duplicate engine against a real database of `--clients` demo clients (loaded by
`kartoteka demo --clients N --interactions-per-client 0` unless the database holds exactly N):

- the batch scan as an operator runs it: `kartoteka dedup scan --json` in its own process,
  its wall time, its phases (read, fold, match, store) and its peak resident memory, beside
  the raw baseline of reading the same columns through a plain cursor;
- the single-record check that the create and edit forms and the API run
  (`queries.check_written`, as an administrator): drafts made from random clients (the phone
  typed as `8 (9xx) xxx-xx-xx`, the e-mail in capitals, a typo in the surname), p50/p95
  over `--checks` drafts, beside the same SQL statements replayed through a plain cursor.

Databases: `var/bench-dedup.sqlite3` and `postgres://postgres@127.0.0.1:5432/kt_dedup_bench`
by default. Writes var/bench-dedup-db-results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.databases import VAR, Target, ensure_postgres, postgres_reachable, targets
from bench.runner import SECRET

DEFAULT_SQLITE = VAR / "bench-dedup.sqlite3"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/kt_dedup_bench"
BIN = Path(sys.executable).parent
Query = tuple[str, Any]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _env(target: Target) -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": target.url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", SECRET),
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "kartoteka.settings",
    }


def _kartoteka(target: Target, *args: str) -> tuple[str, float, int, float]:
    """Run `kartoteka args…` on the target: its stdout, wall seconds, peak RSS in MB and CPU
    seconds (the machine is shared: CPU time is the command's own work)."""
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        process = subprocess.Popen([str(BIN / "kartoteka"), *args], env=_env(target), stdout=out)  # noqa: S603
        _pid, status, usage = os.wait4(process.pid, 0)  # this child's own peak, not the worker's
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, args)
        out.seek(0)
        return out.read(), seconds, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


# --- inside the worker process (Django set up on the target) -----------------------------------


def _live_clients() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM clients_client WHERE deleted_at IS NULL")
        return int(cursor.fetchone()[0])


def raw_read() -> float:
    """The scan's reads, fetched through a plain cursor with nothing done to the rows."""
    from django.db import connection

    from kartoteka.dedup.reader import _COLUMNS

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in (
            f"SELECT {_COLUMNS} FROM clients_client WHERE deleted_at IS NULL ORDER BY id",
            "SELECT client_id, e164 FROM clients_phone",
            "SELECT client_id, email FROM clients_email",
        ):
            cursor.execute(sql)
            while cursor.fetchmany(50_000):
                pass
    return time.perf_counter() - started


def _typo(text: str, r: random.Random) -> str:
    if len(text) < 5:
        return text
    i = r.randint(1, len(text) - 3)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def drafts(
    count: int, seed: int = 5
) -> list[tuple[int, str, dict[str, Any], list[str], list[str]]]:
    """(original id, kind, fields, phones as typed, e-mails as typed) made from random clients."""
    from django.db.models import Max

    from kartoteka.clients.models import Client, Email, Phone

    r = random.Random(seed)
    top = Client.objects.aggregate(top=Max("id"))["top"] or 0
    picked = list(
        Client.objects.filter(pk__in=[r.randint(1, top) for _ in range(count * 2)]).values(
            "id", "kind", "last_name", "first_name", "middle_name", "company_name",
            "legal_form", "inn", "birthday", "address",
        )
    )[:count]  # fmt: skip
    ids = [c["id"] for c in picked]
    phones: dict[int, list[str]] = {}
    for cid, e164 in Phone.objects.filter(client_id__in=ids).values_list("client_id", "e164"):
        d = e164[2:]
        phones.setdefault(cid, []).append(f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}")
    emails: dict[int, list[str]] = {}
    for cid, email in Email.objects.filter(client_id__in=ids).values_list("client_id", "email"):
        emails.setdefault(cid, []).append(f" {email.upper()} ")
    out = []
    for c in picked:
        fields = {k: v for k, v in c.items() if k not in ("id", "kind") and v not in (None, "")}
        if c["kind"] == "person":
            fields["last_name"] = _typo(c["last_name"], r)
        out.append((c["id"], c["kind"], fields, phones.get(c["id"], []), emails.get(c["id"], [])))
    return out


def _recorded(call: Callable[[], Any]) -> tuple[Any, float, list[Query]]:
    from django.db import connection

    captured: list[Query] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        started = time.perf_counter()
        result = call()
        elapsed = (time.perf_counter() - started) * 1000
    return result, elapsed, captured


def _replay(queries: list[Query]) -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute(sql, params)
            cursor.fetchall()
    return (time.perf_counter() - started) * 1000


def checks(count: int) -> dict[str, Any]:
    from kartoteka.accounts.models import Role, User
    from kartoteka.dedup import queries

    admin, _new = User.objects.get_or_create(
        username="bench-dedup-admin", defaults={"role": Role.objects.get(code="admin")}
    )
    samples = drafts(count)
    for _id, kind, fields, phones, emails in samples[:5]:  # warm-up
        queries.check_written(admin, kind, fields, phones, emails)
    times, cpu, raws, statements, found = [], [], [], [], 0
    for original, kind, fields, phones, emails in samples:
        started = time.process_time()
        result, ms, sql = _recorded(
            lambda k=kind, f=fields, p=phones, e=emails: queries.check_written(admin, k, f, p, e)
        )
        cpu.append((time.process_time() - started) * 1000)  # this process's share: no SQL server
        times.append(ms)
        raws.append(_replay(sql))
        statements.append(len(sql))
        found += original in result.ids
    p95, raw_p95 = percentile(times, 0.95), percentile(raws, 0.95)
    return {
        "checks": len(times),
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(p95, 2),
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p95_ms": round(percentile(cpu, 0.95), 2),
        "raw_p50_ms": round(statistics.median(raws), 2),
        "raw_p95_ms": round(raw_p95, 2),
        "ratio_p95": round(p95 / raw_p95, 2) if raw_p95 else None,
        "statements": max(statements, default=0),
        "original_found": round(found / max(len(times), 1), 3),
    }


def worker(clients: int, check_count: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    out: dict[str, Any] = {"clients_before": _live_clients()}
    if out["clients_before"] != clients:
        from kartoteka.clients import demo

        started = time.perf_counter()
        demo.load(clients - out["clients_before"], interactions_per_client=0)
        out["load_s"] = round(time.perf_counter() - started, 1)
    out["clients"] = _live_clients()
    if check_count:
        out["check"] = checks(check_count)
        return out
    started = time.process_time()
    out["raw_read_s"] = round(raw_read(), 1)
    out["raw_read_cpu_s"] = round(time.process_time() - started, 1)
    return out


# --- the driver -------------------------------------------------------------------------------


def measure(target: Target, clients: int, check_count: int, reload: bool) -> dict[str, Any]:
    if target.vendor == "postgresql":
        ensure_postgres(target.url, fresh=reload)
    elif reload:
        Path(target.url.removeprefix("sqlite:///")).unlink(missing_ok=True)

    def run_worker(check: int) -> dict[str, Any]:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.dedup_db", "--worker", str(clients), str(check)],
            env=_env(target),
            check=True,
            capture_output=True,
            text=True,
        )
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    result = run_worker(0)  # load if needed, the raw read
    # The scan first, as the nightly job runs it after a load: it refreshes the key table's
    # statistics, without which PostgreSQL scans the table for each check.
    stdout, seconds, peak, cpu = _kartoteka(target, "dedup", "scan", "--json")
    result["check"] = run_worker(check_count)["check"]
    scan = json.loads(stdout)
    result["scan"] = {
        "wall_s": round(seconds, 1),
        "cpu_s": round(cpu, 1),
        "in_command_s": scan["seconds"],
        "phases": scan.get("phases", {}),
        "pairs": len(scan["pairs"]),
        "peak_rss_mb": peak,
        "ratio_to_raw_read": round(seconds / result["raw_read_s"], 1),
    }
    return result | {"label": target.label}


def _table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | clients | scan s (CPU s) | phases s: read / fold / match / store | "
        "raw read s | peak RSS | pairs | check p50 ms | check p95 ms | raw p95 ms | ratio |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s, c, ph = r["scan"], r["check"], r["scan"]["phases"]
        phases = " / ".join(str(ph.get(k, "—")) for k in ("read", "fold", "match", "store"))
        lines.append(
            f"| {r['label']} | {r['clients']:,} | {s['wall_s']} ({s['cpu_s']}) | {phases} | "
            f"{r['raw_read_s']} | "
            f"{s['peak_rss_mb']:,} MB | {s['pairs']:,} | {c['p50_ms']} | {c['p95_ms']} | "
            f"{c['raw_p95_ms']} | {c['ratio_p95']} |"
        )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(worker(int(sys.argv[2]), int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--sqlite", type=Path, default=DEFAULT_SQLITE)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--reload", action="store_true", help="load the database afresh")
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    results = []
    for target in targets(args.db.split(","), args.sqlite, args.pg_url):
        if target.vendor == "postgresql" and not postgres_reachable(target.url):
            sys.stderr.write(f"bench: PostgreSQL is not reachable at {target.url}; skipped\n")
            continue
        results.append(measure(target, args.clients, args.checks, args.reload))
        print(json.dumps(results[-1]), flush=True)
    (VAR / "bench-dedup-db-results.json").write_text(json.dumps(results, indent=1))
    print(_table(results))


if __name__ == "__main__":
    main()
