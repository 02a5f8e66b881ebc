"""The results as a Markdown table (stdout, docs/benchmarks.md) and as JSON."""

from __future__ import annotations

from typing import Any


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _ratio(page: dict[str, Any]) -> str:
    if not page.get("p95_ms") or not page.get("raw_p95_ms"):
        return "—"
    return f"{page['p95_ms'] / page['raw_p95_ms']:.1f}×"


def _met(page: dict[str, Any]) -> str:
    if page["met"] is None:
        return f"HTTP {page['status']}" if page.get("status") else "—"
    return "yes" if page["met"] else "**no**"


def load_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| database | clients | interactions | rows written | seconds | rows/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        load = r.get("load") or {}
        lines.append(
            f"| {r['label']} | {r['clients']:,} | {r['interactions']:,} | {load.get('rows', 0):,} "
            f"| {load.get('seconds', '—')} | {load.get('rows_per_second', 0):,} |"
        )
    return lines


def pages_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| database | page | requests | p50 ms | p95 ms | target p95 | met | queries "
        "| raw p50 ms | raw p95 ms | page/raw p95 |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        for p in r["pages"]:
            lines.append(
                f"| {r['label']} | {p['label']} | {p['requests']} | {_ms(p['p50_ms'])} "
                f"| {_ms(p['p95_ms'])} | < {p['target_ms']:.0f} | {_met(p)} "
                f"| {p['queries'] if p['queries'] is not None else '—'} | {_ms(p['raw_p50_ms'])} "
                f"| {_ms(p['raw_p95_ms'])} | {_ratio(p)} |"
            )
    return lines


def slow_queries(results: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for r in results:
        for p in r["pages"]:
            if p["met"] is False:
                lines += _slow_page(r["label"], p)
    return lines


def _slow_page(label: str, p: dict[str, Any]) -> list[str]:
    lines = [
        f"**{label}, {p['label']}** (`{p['example']}`): p95 {_ms(p['p95_ms'])} ms, of which SQL "
        f"p95 {_ms(p['raw_p95_ms'])} ms; slowest statement {_ms(p['slowest_sql_ms'])} ms median.",
        "",
    ]
    if p.get("plan"):
        lines += ["```sql", p["slowest_sql"], "```", "", "```", *p["plan"], "```", ""]
    if p.get("profile"):
        lines += ["Python profile of 5 requests (cumulative):", "", "```", *p["profile"], "```", ""]
    return lines


def markdown(results: list[dict[str, Any]]) -> str:
    notes = []
    for r in results:
        if not r.get("manager_scoped_by_owner"):
            notes.append(
                f"- {r['label']}: the permissions engine does not narrow a manager's clients by "
                "owner yet, so manager figures would equal the administrator's; not measured."
            )
        if r.get("loadavg"):
            notes.append(f"- {r['label']}: load average before/after the page runs {r['loadavg']}.")
        if r.get("load_reused"):
            notes.append(f"- {r['label']}: database reused; load figures are from its load.")
    parts = [*load_table(results), "", *pages_table(results), ""]
    if notes:
        parts += [*notes, ""]
    return "\n".join(parts + slow_queries(results))
