"""`kartoteka serve` starts the Asterisk listener when AMI is configured, and its helpers stop
with it: on SIGTERM (uvicorn used to re-raise it and kill serve before it stopped them) and,
on Linux, even when serve is killed outright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kartoteka.core.management.commands import serve

ROOT = Path(__file__).resolve().parents[2]


def test_the_listener_runs_only_when_ami_is_configured(settings):
    settings.TELEPHONY_PROVIDER = "asterisk"
    settings.TELEPHONY_CONFIG = {**settings.TELEPHONY_CONFIG, "ami_user": "kartoteka"}
    assert serve.helper_commands(worker=True, listener=True) == [
        ["worker"],
        ["cron", "--loop"],
        ["asterisk", "listen"],
    ]
    assert serve.helper_commands(worker=False, listener=False) == []
    settings.TELEPHONY_CONFIG = {**settings.TELEPHONY_CONFIG, "ami_user": ""}
    assert serve.helper_commands(worker=False, listener=True) == []
    settings.TELEPHONY_PROVIDER = "webhook"
    assert serve.helper_commands(worker=True, listener=True) == [["worker"], ["cron", "--loop"]]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has stopped; its parent just did not reap it


def _wait(check, limit_s: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_stopping_serve_stops_the_listener(tmp_path, how):
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
        },
        "KARTOTEKA_VAR_DIR": str(tmp_path),
        "TELEPHONY_PROVIDER": "asterisk",
        "ASTERISK_AMI_USER": "kartoteka",
        "ASTERISK_AMI_PORT": str(_closed_port()),  # nothing answers: the listener keeps retrying
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "kartoteka", "serve", "--port", "0", "--no-worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait(lambda: len(_children(server.pid)) == 1), "no listener started"
        (listener,) = _children(server.pid)
        time.sleep(1.0)  # let both processes finish starting
        server.send_signal(how)
        server.wait(timeout=60)
        assert _wait(lambda: not _alive(listener)), "the listener outlived serve"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
