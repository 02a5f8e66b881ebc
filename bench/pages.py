"""Server-side timings of the real pages with Django's test Client, beside their raw SQL.

Each page is requested `n` times (after a warm-up) with varying parameters; every request's
SQL is recorded through an execute wrapper. The "raw" figure replays exactly those reads
through a plain DB-API cursor (writes, such as the card's audit entry, are hash-chained and
cannot be replayed), so page/raw is what the ORM, views, templates and writes add.
"""

from __future__ import annotations

import cProfile
import io
import math
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.test import Client as HttpClient
from django.urls import NoReverseMatch, reverse

from bench.prepare import State
from kartoteka.accounts.models import User
from kartoteka.clients.models import Client

Query = tuple[str, Any]
WARM_UP = 3
SLOW_STATEMENT_MS = 5.0  # a failed page's slowest statement is explained from this long on


@dataclass
class Page:
    key: str
    label: str
    target_ms: float
    urls: list[str]


@dataclass
class Result:
    key: str
    label: str
    target_ms: float
    example: str
    status: int = 0
    requests: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    queries: int | None = None
    raw_p50_ms: float | None = None
    raw_p95_ms: float | None = None
    slowest_sql: str = ""
    slowest_sql_ms: float | None = None
    plan: list[str] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool | None:
        return None if self.p95_ms is None else self.p95_ms < self.target_ms


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def url_for(name: str, fallback: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def samples(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Random live clients (by id) to build the queries from."""
    bounds = Client.objects.order_by("id").values_list("id", flat=True)
    low, high = bounds.first() or 0, bounds.last() or 0
    ids = random.Random(seed).sample(range(low, high + 1), min(count * 2, high - low + 1))
    fields = ("id", "kind", "last_name", "company_name", "primary_phone", "primary_email")
    return list(Client.objects.filter(id__in=ids).values(*fields)[:count])


def _name_part(row: dict[str, Any]) -> str:
    name = row["last_name"] if row["kind"] == Client.Kind.PERSON else row["company_name"]
    return name.strip("«»")[:6]


def _phone_as_typed(e164: str) -> str:
    d = e164.removeprefix("+7")
    return f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}"


INTERACTIONS = "/api/v1/interactions?limit=50"


def pages(state: State, owners: list[int], n: int) -> list[Page]:
    rows = samples(n)
    base = url_for("clients:list", "/clients/")

    def q(value: str) -> str:
        return f"{base}?{urlencode({'q': value})}"

    card = url_for("clients:card", f"/clients/{state.heavy_id}/", state.heavy_id)
    return [
        Page(
            "list",
            "list, owner filter, by name",
            50,
            [f"{base}?{urlencode({'owner': o, 'sort': 'name'})}" for o in owners],
        ),
        Page("search_name", "search: part of a name", 100, [q(_name_part(r)) for r in rows]),
        Page(
            "search_phone",
            "search: phone as 8 (9xx) …",
            100,
            [q(_phone_as_typed(r["primary_phone"])) for r in rows],
        ),
        Page(
            "search_email",
            "search: e-mail part",
            100,
            [q(r["primary_email"].split("@")[0]) for r in rows],
        ),
        Page("card", "card, 1,000 interactions", 100, [card]),
        Page("api_interactions", "API: interactions, newest first", 100, [INTERACTIONS]),
    ]


def manager_pages(manager: User, n: int) -> list[Page]:
    rows = [r for r in samples(n, seed=11) if r["kind"] == Client.Kind.PERSON]
    base = url_for("clients:list", "/clients/")
    return [
        Page("manager_list", "manager: own list, by name", 50, [f"{base}?sort=name"]),
        Page(
            "manager_search",
            "manager: search part of a name",
            100,
            [f"{base}?{urlencode({'q': _name_part(r)})}" for r in rows],
        ),
        Page("manager_api_interactions", "manager: API interactions", 100, [INTERACTIONS]),
    ]


def _request(http: HttpClient, url: str) -> tuple[int, float, list[Query]]:
    captured: list[Query] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        started = time.perf_counter()
        response = http.get(url)
        elapsed = (time.perf_counter() - started) * 1000
    return response.status_code, elapsed, captured


Timings = dict[str, tuple[list[float], Any]]


def _replay(queries: list[Query], per_statement: Timings) -> float:
    total = 0.0
    with connection.cursor() as cursor:
        for sql, params in queries:
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue  # writes (the card's audit entry) cannot be replayed: they chain
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            elapsed = (time.perf_counter() - started) * 1000
            per_statement.setdefault(sql, ([], params))[0].append(elapsed)
            total += elapsed
    return total


def measure(http: HttpClient, page: Page, n: int) -> Result:
    result = Result(page.key, page.label, page.target_ms, page.urls[0])
    for url in page.urls[:WARM_UP]:
        result.status, _ms, _q = _request(http, url)
    if result.status != 200:
        return result
    times, raw, counts = [], [], []
    per_statement: Timings = {}
    for i in range(n):
        status, elapsed, queries = _request(http, page.urls[i % len(page.urls)])
        if status != 200:
            result.status = status
            return result
        times.append(elapsed)
        counts.append(len(queries))
        raw.append(_replay(queries, per_statement))
    result.requests = n
    result.p50_ms, result.p95_ms = statistics.median(times), percentile(times, 0.95)
    result.raw_p50_ms, result.raw_p95_ms = statistics.median(raw), percentile(raw, 0.95)
    result.queries = max(counts)
    _slowest(result, per_statement)
    if result.met is False and result.raw_p95_ms < result.p95_ms / 2:
        result.profile = profile(http, page.urls[0])
    sys.stderr.write(f"  {connection.vendor}: {page.label}: p95 {result.p95_ms:.1f} ms\n")
    return result


def _slowest(result: Result, per_statement: Timings) -> None:
    """Keep the slowest statement; explain it when the page misses its target because of it."""
    if not per_statement:
        return
    sql, (times, params) = max(per_statement.items(), key=lambda kv: statistics.median(kv[1][0]))
    result.slowest_sql, result.slowest_sql_ms = sql, statistics.median(times)
    if result.met is False and max(times) >= SLOW_STATEMENT_MS:
        result.plan = explain(sql, params)


def profile(http: HttpClient, url: str, top: int = 15) -> list[str]:
    """Where a request spends its time when it is not in SQL: cumulative, Kartoteka and Django."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        http.get(url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(r"kartoteka|django/(template|db/models)", top)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return [line for line in lines[start:] if line.strip()]


def explain(sql: str, params: Any) -> list[str]:
    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS) "
        if connection.vendor == "postgresql"
        else "EXPLAIN QUERY PLAN "
    )
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return [" ".join(str(c) for c in row) for row in cursor.fetchall()]
