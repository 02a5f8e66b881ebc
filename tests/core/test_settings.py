"""Settings from the environment: a bad value stops start-up with a message naming it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kartoteka.env import ConfigError, env_bool, env_int


def start(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env = {"SECRET_KEY": "k" * 40, **env}
    return subprocess.run(
        [sys.executable, "-m", "kartoteka", "check"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"LANGUAGE_CODE": "de"}, "LANGUAGE_CODE"),
        (
            {"DATABASE_URL": "postgres://postgres@127.0.0.1/x", "SECRET_KEY": ""},
            "SECRET_KEY: must be set",
        ),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"SESSION_COOKIE_AGE": "soon"}, "SESSION_COOKIE_AGE"),
    ],
)
def test_bad_values_stop_start_up_naming_the_setting(env, named):
    result = start(env)
    assert result.returncode != 0
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_helpers(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    assert env_bool("X_BOOL", False) is True
    monkeypatch.setenv("X_INT", "-3")
    with pytest.raises(ConfigError, match="X_INT"):
        env_int("X_INT", 1, minimum=0)


def test_production_settings_pass_the_deploy_check():
    env = {
        "SECRET_KEY": "s3cret-" * 8,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "HTTPS": "true",
        "ALLOWED_HOSTS": "crm.example.com",
    }
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    result = subprocess.run(
        [sys.executable, "-m", "kartoteka", "check", "--deploy", "--fail-level", "WARNING"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_old_sqlite_is_refused_by_name(monkeypatch):
    from kartoteka import settings

    monkeypatch.setattr(settings.sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(settings.sqlite3, "sqlite_version", "3.31.1")
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/old.sqlite3")
    with pytest.raises(ConfigError, match=r"SQLite 3\.35 or newer .* has 3\.31\.1"):
        settings._database()
