"""The bench databases: where they are and how to start them afresh (no Django here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


@dataclass(frozen=True)
class Target:
    vendor: str  # "sqlite" or "postgresql", as Django names it
    url: str

    @property
    def name(self) -> str:
        """The database's name: the PostgreSQL database or the SQLite file's stem."""
        return Path(self.url.split("?", 1)[0].rsplit("/", 1)[1]).stem

    @property
    def label(self) -> str:
        return "SQLite" if self.vendor == "sqlite" else "PostgreSQL"


def targets(names: list[str], sqlite_path: Path, pg_url: str) -> list[Target]:
    known = {
        "sqlite": Target("sqlite", f"sqlite:///{sqlite_path.resolve()}"),
        "postgresql": Target("postgresql", pg_url),
    }
    aliases = {"postgres": "postgresql", "pg": "postgresql"}
    return [known[aliases.get(n, n)] for n in names]


def _pg_split(url: str) -> tuple[str, str]:
    server, name = url.rsplit("/", 1)
    return server + "/postgres", name.split("?", 1)[0]


def postgres_reachable(url: str) -> bool:
    try:
        psycopg.connect(_pg_split(url)[0], connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def ensure_postgres(url: str, fresh: bool) -> None:
    """Create the bench database if missing; drop and re-create it when `fresh`."""
    admin_url, name = _pg_split(url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def reset(target: Target, fresh: bool) -> None:
    if target.vendor == "postgresql":
        ensure_postgres(target.url, fresh)
        return
    path = Path(target.url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
