"""Background jobs for analytics: thin and idempotent (a rerun rewrites the same classes)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from kartoteka.segments import dashboard_tallies
from kartoteka.segments import recompute as job


@task()
def recompute_classes() -> dict[str, Any]:
    """Recompute every client's ABC, XYZ, RFM and contact-cycle stage (scheduled nightly),
    then the dashboard cells that read the new classes."""
    run = job.recompute()
    run["dashboard_cells"] = dashboard_tallies.refresh()
    return run
