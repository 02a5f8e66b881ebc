"""`python -m bench.telephony [--rates 200,2] [--seconds 5] [--connections 16] [--pg-url URL]`:
the webhook under load.

A fresh PostgreSQL database, 50 operators and 1,000 clients; a uvicorn server on 127.0.0.1
(2 workers, Redis for live events when REDIS_URL answers). Every operator's event stream
(/events/) is open. Calls arrive at --rate per second for --seconds: each is three signed
webhook requests, ringing → answered (1 s later) → ended (2 s later), over keep-alive
connections (--connections of them: the PBX's concurrent requests; the time a ringing event
waits for a free one counts in its pop's latency). One run per rate (the target, and one the
server keeps up with).
Measured:
- the screen pop's latency: from sending "ringing" to the "call" event arriving on the
  operator's open stream, p50 / p95 / max;
- events lost: requests not answered 200, ledger rows, calls and ended calls counted in the
  database afterwards against what was sent; pops not received;
- the raw-SQL baseline: the same ledger and call rows written by plain SQL, one transaction
  per event, in the same run; the ratio of the two throughputs;
- where the CPU went during the measured window: this process (the load), the server's
  processes, the PostgreSQL backends of the bench database, and the whole machine (busy %,
  other work included) — to tell a slow server from a starved one or a slow load.
Throughput is events answered 200 over the time until the last call ended (or 20 s after the
last started): each call lasts 3 s, so a 5 s run cannot show more than 3,000 / 8 s = 375
events/s even from an infinitely fast server; the 600 events/s are the rate while all three
kinds overlap.
Writes var/bench-telephony-results.json. Bounded: calls not through 20 s after the last one
started are cancelled and counted as unfinished.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.cpu import CpuMeter
from bench.databases import ROOT, VAR, ensure_postgres

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/kartoteka_telephony_bench"
SECRET = "bench-telephony-secret-0123456789"  # noqa: S105 - bench only
KEY = "bench-only-secret-key-not-for-production-0123456789"
OPERATORS = 50
CLIENTS = 1000
POOL = 16  # the PBX's concurrent requests (--connections)


def _env(url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": KEY,
        "TELEPHONY_PROVIDER": "webhook",
        "TELEPHONY_WEBHOOK_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
        # Under ASGI every request may run in a thread of its own: persistent connections
        # would pile up past max_connections (100), so each request opens and closes one
        # (the webhook's own threads keep theirs: callcenter/providers/webhook/asgi.py).
        "DATABASE_CONN_MAX_AGE": "0",
        "DJANGO_SETTINGS_MODULE": "kartoteka.settings",
    }


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # no Redis: the database backend (polls every 0.5 s)
        return ""
    return url


def prepare(url: str, redis_url: str) -> dict[str, str]:
    """Migrate, create operators (with session cookies) and clients; returns ext -> cookie."""
    os.environ.update(_env(url, redis_url))
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.utils import timezone

    from kartoteka.accounts.models import Role, User
    from kartoteka.callcenter.models import Operator
    from kartoteka.clients.models import Client, Phone

    call_command("migrate", verbosity=0)
    role = Role.objects.get(code="operator")
    cookies = {}
    for k in range(OPERATORS):
        user = User.objects.create_user(f"op{k}", role=role)
        Operator.objects.create(
            user=user, extension=str(1000 + k), status="available", since=timezone.now()
        )
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies[str(1000 + k)] = f"sessionid={session.session_key}"
    clients = Client.objects.bulk_create(
        Client(kind="person", last_name=f"Client {i}", name=f"Client {i}") for i in range(CLIENTS)
    )
    Phone.objects.bulk_create(
        Phone(client=c, raw=_number(i), e164=_number(i)) for i, c in enumerate(clients)
    )
    from django.db import connection

    with connection.cursor() as cursor:  # statistics, as a live database has: not a fresh load's
        cursor.execute("ANALYZE")
    connection.close()
    return cookies


def _number(i: int) -> str:
    return f"+7916{i:07d}"


# --- a small HTTP/1.1 client over asyncio (keep-alive; the load must not cost more than the
# server it measures) ----------------------------------------------------------------------------


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{head}\r\n".encode()
            + body
        )
        await self.writer.drain()
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _sep, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1]) if status_line else 0


async def listen(port: int, cookie: str, arrived: dict[str, float], stop: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /events/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    event = ""
    while not stop.is_set():
        try:
            line = await asyncio.wait_for(reader.readline(), 1.0)
        except TimeoutError:
            continue
        if not line:
            return
        text = line.decode(errors="replace").strip()
        if text.startswith("event:"):
            event = text[6:].strip()
        elif text.startswith("data:") and event == "call":
            data = json.loads(text[5:])
            if data.get("stage") == "ringing":
                arrived.setdefault(data["number"], time.perf_counter())
    writer.close()


def _signed(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    from kartoteka.callcenter.providers.webhook.provider import (
        SIGNATURE_HEADER,
        TIMESTAMP_HEADER,
        sign,
    )

    raw = json.dumps(body).encode()
    stamp = str(int(time.time()))
    return raw, {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(SECRET, stamp, raw)}


async def load(
    port: int,
    rate: float,
    seconds: float,
    cookies: dict[str, str],
    meter: CpuMeter | None = None,
    connections: int = POOL,
) -> dict[str, Any]:
    calls = int(rate * seconds)
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(port))
    sent: dict[str, float] = {}
    ok_ids: set[str] = set()
    request_times: list[float] = []
    arrived: dict[str, float] = {}
    statuses: list[int] = []
    stop = asyncio.Event()
    listeners = [asyncio.create_task(listen(port, c, arrived, stop)) for c in cookies.values()]
    await asyncio.sleep(2.0)  # the streams are open

    async def send(body: dict[str, Any]) -> None:
        raw, headers = _signed(body)
        if body["type"] == "call.ringing":  # the PBX's moment: waiting for a connection counts
            sent[body["from"]] = time.perf_counter()
        conn = await pool.get()
        try:
            begun = time.perf_counter()
            status = await conn.post("/telephony/webhook/", raw, headers)
            request_times.append(time.perf_counter() - begun)
            statuses.append(status)
            if status == 200:
                ok_ids.add(body["id"])
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            conn.writer = None
            statuses.append(0)
        finally:
            pool.put_nowait(conn)

    async def one_call(i: int) -> None:
        base = {"call_id": f"bench-{i}", "from": _number(i), "to": "+74950000000"}
        ext = str(1000 + i % OPERATORS)
        for n, (kind, pause) in enumerate((("ringing", 1.0), ("answered", 2.0), ("ended", 0.0))):
            now = dt.datetime.now(dt.UTC).isoformat()
            await send(
                {**base, "id": f"b{i}-{n}", "type": f"call.{kind}", "at": now, "extension": ext}
            )
            if pause:
                await asyncio.sleep(pause)

    # Warm up: the first requests of each worker import and connect; not measured.
    for w in range(20):
        now = dt.datetime.now(dt.UTC).isoformat()
        warm = {"call_id": f"warm-{w}", "from": "+74950000001", "at": now, "extension": "999"}
        await send({**warm, "id": f"warm-{w}", "type": "call.ended"})
    for seen in (sent, ok_ids, statuses, request_times):
        seen.clear()
    if meter is not None:
        meter.start()
    started = time.perf_counter()
    tasks = []
    for i in range(calls):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one_call(i)))
    sending = time.perf_counter() - started
    _done, pending = await asyncio.wait(tasks, timeout=20)
    elapsed = time.perf_counter() - started
    cpu = meter.read() if meter is not None else {}
    for task in pending:  # bounded: calls not through 20 s after the last was started
        task.cancel()
    await asyncio.sleep(1.0)  # the last pops
    stop.set()
    await asyncio.wait(listeners, timeout=3)
    # Pops of calls whose "ringing" was answered 200 (a cancelled request may still pop).
    rang = {_number(int(i[1:].split("-")[0])) for i in ok_ids if i.endswith("-0")}
    latencies = sorted(arrived[k] - sent[k] for k in rang if k in arrived)
    return {
        "calls": calls,
        "events_planned": calls * 3,
        "events_sent": len(statuses),
        "events_ok": len(ok_ids),
        "calls_unfinished": len(pending),
        "ok_ids": ok_ids,
        "seconds_sending": round(sending, 2),
        "seconds_total": round(elapsed, 2),
        "events_per_second": round(len(ok_ids) / elapsed, 1),
        "pops": len(latencies),
        "pops_missing": len(rang - arrived.keys()),
        "pop_ms": _percentiles(latencies),
        "request_ms": _percentiles(sorted(request_times)),
        "cpu": cpu,
    }


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None}
    ms = [v * 1000 for v in values]
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return {
        "p50": round(statistics.median(ms), 1),
        "p95": round(p95, 1),
        "max": round(ms[-1], 1),
    }


# --- counting and the raw-SQL baseline ---------------------------------------------------------


def count(url: str, ok_ids: set[str]) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        one = conn.execute
        ledger = {
            r[0]
            for r in one(
                "SELECT event_id FROM callcenter_processedevent WHERE provider = 'webhook'"
            )
        }
        return {
            "lost_events": len(ok_ids - ledger),
            "ledger_rows": one(
                "SELECT count(*) FROM callcenter_processedevent WHERE provider = 'webhook'"
            ).fetchone()[0],  # type: ignore[index]
            "calls_in_db": one("SELECT count(*) FROM callcenter_call").fetchone()[0],  # type: ignore[index]
            "calls_ended": one(
                "SELECT count(*) FROM callcenter_call WHERE status = 'ended'"
            ).fetchone()[0],  # type: ignore[index]
        }


def raw_baseline(url: str, calls: int) -> dict[str, float]:
    """The same ledger and call rows by plain SQL: one transaction per event, like the view."""
    import psycopg

    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        for i in range(calls):
            call_id = f"raw-{i}"
            for n, kind in enumerate(("ringing", "answered", "ended")):
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO callcenter_processedevent (provider, event_id, call_ref,"
                        " kind, at, received_at) VALUES ('raw', %s, %s, %s, %s, %s)",
                        [f"r{i}-{n}", call_id, kind, now, now],
                    )
                    if kind == "ringing":
                        conn.execute(
                            "INSERT INTO callcenter_call (provider, call_id, direction, status,"
                            " caller, caller_e164, callee, callee_e164, extension, queue, ivr,"
                            " started_at, end_reason, summary, recording_url, version,"
                            " created_at, updated_at) VALUES ('raw', %s, 'in', 'ringing', %s,"
                            " %s, '', '', '', '', '{}', %s, '', '', '', 1, %s, %s)",
                            [call_id, _number(i), _number(i), now, now, now],
                        )
                    else:
                        field = "answered_at" if kind == "answered" else "ended_at"
                        conn.execute(
                            f"UPDATE callcenter_call SET status = %s, {field} = %s,"  # nosec B608
                            " version = version + 1 WHERE provider = 'raw' AND call_id = %s",
                            [kind if kind == "ended" else "answered", now, call_id],
                        )
    elapsed = time.perf_counter() - started
    return {
        "events": calls * 3,
        "seconds": round(elapsed, 2),
        "events_per_second": round(calls * 3 / elapsed, 1),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(port: int, server: subprocess.Popen[bytes], limit: float = 60) -> None:
    ends = time.monotonic() + limit
    while time.monotonic() < ends:
        if server.poll() is not None:
            raise SystemExit("the server stopped while starting")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.3)
    raise SystemExit("the server did not start")


def run_once(args: argparse.Namespace, rate: float) -> dict[str, Any]:
    ensure_postgres(args.pg_url, fresh=True)
    redis_url = _redis_url()
    cookies = prepare(args.pg_url, redis_url)
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "kartoteka.asgi:application"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)]
    command += ["--no-access-log", "--lifespan", "off", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=_env(args.pg_url, redis_url))  # noqa: S603
    try:
        _wait_up(port, server)
        time.sleep(2.0)
        meter = CpuMeter(server.pid, args.pg_url.rsplit("/", 1)[-1])
        run = asyncio.run(load(port, rate, args.seconds, cookies, meter, args.connections))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    counted = count(args.pg_url, run.pop("ok_ids"))
    baseline = raw_baseline(args.pg_url, run["calls"])
    return {
        "rate": rate,
        "seconds": args.seconds,
        "workers": args.workers,
        "connections": args.connections,
        "live_events": "redis" if redis_url else "database",
        **run,
        **counted,
        "raw_sql": baseline,
        "ratio_raw_to_http": round(
            baseline["events_per_second"] / max(run["events_per_second"], 0.1), 1
        ),
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="python -m bench.telephony", description=__doc__)
    parser.add_argument(
        "--rates", default="200,2", help="calls per second, one run each (comma-separated)"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of calls per run")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument(
        "--connections", type=int, default=POOL, help="the PBX's concurrent requests"
    )
    args = parser.parse_args(argv)
    results = [run_once(args, float(rate)) for rate in args.rates.split(",")]
    document = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "runs": results}
    VAR.mkdir(exist_ok=True)
    (VAR / "bench-telephony-results.json").write_text(json.dumps(document, indent=2))
    print(json.dumps(document, indent=2))
    return results


if __name__ == "__main__":
    main()
