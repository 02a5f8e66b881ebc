"""`kartoteka erlang` and `kartoteka simulate`: JSON figures, and clear errors for bad flags."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

EXAMPLE = ["--calls", "100", "--interval-s", "1800", "--aht-s", "180"]
KEYS = {
    "agents",
    "scheduled_agents",
    "probability_of_wait",
    "service_level",
    "asa_s",
    "occupancy",
    "abandonment",
}


def run(name: str, *args: str) -> dict:
    out = io.StringIO()
    call_command(name, *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_erlang_for_given_agents():
    figures = run("erlang", *EXAMPLE, "--agents", "14", "--answer-s", "20")
    assert set(figures) == KEYS
    assert figures["agents"] == figures["scheduled_agents"] == 14
    assert figures["probability_of_wait"] == pytest.approx(0.1741, abs=5e-5)
    assert figures["service_level"] == pytest.approx(0.8884, abs=5e-5)
    assert figures["asa_s"] == pytest.approx(7.836, abs=5e-4)
    assert figures["occupancy"] == pytest.approx(0.714, abs=5e-4)
    assert figures["abandonment"] == 0


def test_erlang_for_a_service_level_target_with_shrinkage():
    figures = run(
        "erlang", *EXAMPLE, "--target-sl", "0.8", "--answer-s", "20", "--shrinkage", "0.3"
    )
    assert (figures["agents"], figures["scheduled_agents"]) == (14, 20)


def test_erlang_for_asa_and_occupancy_targets():
    assert run("erlang", *EXAMPLE, "--target-asa-s", "10")["asa_s"] <= 10
    capped = run("erlang", *EXAMPLE, "--target-sl", "0.5", "--max-occupancy", "0.7")
    assert capped["agents"] == 15 and capped["occupancy"] <= 0.7


def test_erlang_a_with_patience():
    figures = run("erlang", *EXAMPLE, "--agents", "14", "--patience-s", "60")
    assert 0 < figures["abandonment"] < 0.1
    assert figures["probability_of_wait"] < 0.1741


def test_an_unstable_queue_prints_a_null_asa():
    figures = run("erlang", *EXAMPLE, "--agents", "9")
    assert figures["asa_s"] is None and figures["service_level"] == 0


def test_the_plain_report():
    out = io.StringIO()
    call_command("erlang", *EXAMPLE, "--agents", "14", stdout=out)
    assert "Service level (20 s): 88.84%" in out.getvalue()


def test_simulate_reports_the_same_keys_measured():
    figures = run("simulate", *EXAMPLE, "--agents", "14", "--sim-calls", "20000", "--seed", "3")
    assert set(figures) == KEYS
    assert figures["agents"] == 14
    assert figures["service_level"] == pytest.approx(0.888, abs=0.03)
    again = run("simulate", *EXAMPLE, "--agents", "14", "--sim-calls", "20000", "--seed", "3")
    assert again == figures  # the seed makes it reproducible
    patient = run(
        "simulate", *EXAMPLE, "--agents", "14", "--patience-s", "60", "--sim-calls", "5000"
    )
    assert patient["abandonment"] > 0


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--interval-s", "1800", "--aht-s", "180", "--agents", "14"], "--calls"),
        ([*EXAMPLE[:1], "lots", *EXAMPLE[2:], "--agents", "14"], "--calls"),
        ([*EXAMPLE[:1], "-5", *EXAMPLE[2:], "--agents", "14"], "--calls"),
        ([*EXAMPLE[:3], "0", *EXAMPLE[4:], "--agents", "14"], "--interval-s"),
        ([*EXAMPLE[:5], "nan", "--agents", "14"], "--aht-s"),
        ([*EXAMPLE, "--agents", "0"], "--agents"),
        ([*EXAMPLE, "--agents", "2.5"], "--agents"),
        ([*EXAMPLE, "--target-sl", "1.2"], "--target-sl"),
        ([*EXAMPLE, "--target-sl", "0.8", "--shrinkage", "1"], "--shrinkage"),
        ([*EXAMPLE, "--target-sl", "0.8", "--max-occupancy", "0"], "--max-occupancy"),
        ([*EXAMPLE, "--target-asa-s", "-1"], "--target-asa-s"),
        ([*EXAMPLE, "--agents", "14", "--patience-s", "inf"], "--patience-s"),
        ([*EXAMPLE, "--agents", "14", "--target-sl", "0.8"], "--target-sl"),
        (EXAMPLE, "--agents"),
        ([*EXAMPLE, "--agents", "14", "--max-occupancy", "0.8"], "--max-occupancy"),
    ],
)
def test_erlang_bad_arguments_name_the_flag(args, flag):
    with pytest.raises(CommandError, match=flag):
        call_command("erlang", *args)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (EXAMPLE, "--agents"),
        ([*EXAMPLE, "--agents", "14", "--sim-calls", "5"], "--sim-calls"),
        ([*EXAMPLE, "--agents", "14", "--seed", "x"], "--seed"),
        ([*EXAMPLE, "--agents", "14", "--answer-s", "-1"], "--answer-s"),
    ],
)
def test_simulate_bad_arguments_name_the_flag(args, flag):
    with pytest.raises(CommandError, match=flag):
        call_command("simulate", *args)


def test_from_the_shell_a_bad_flag_exits_non_zero_without_a_traceback():
    name = "erlang"  # one start of the real CLI (2 s); simulate parses through the same code
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-c", "from kartoteka.cli import main; main()", name, *EXAMPLE[:4]],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},  # no database needed
        check=False,
    )
    assert done.returncode != 0
    assert "--aht-s" in done.stderr
    assert "Traceback" not in done.stderr


def test_errors_from_the_computation_name_the_flag():
    with pytest.raises(CommandError, match="--patience-s"):
        call_command(
            "erlang",
            "--calls",
            "0.5",
            "--interval-s",
            "1",
            "--aht-s",
            "180",
            "--patience-s",
            "1e12",
            "--agents",
            "100",
        )
    with pytest.raises(CommandError, match="--calls"):
        call_command(
            "erlang", "--calls", "1e7", "--interval-s", "1", "--aht-s", "180", "--target-sl", "0.8"
        )
