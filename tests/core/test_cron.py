"""Periodic jobs: the clock enqueues the jobs that are due (the tests run tasks at once)."""

from __future__ import annotations

from django.core.management import call_command

from kartoteka.core.management.commands import cron


def test_cron_runs_the_retention_job(db, capsys, settings):
    started = cron.run_due(say=lambda text: None)
    assert {"retention", "dedup_scan", "analytics"} <= set(started)


def test_command_once(db, capsys):
    call_command("cron")
    assert "retention" in capsys.readouterr().out
