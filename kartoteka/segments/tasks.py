"""Background jobs for analytics: thin and idempotent (a rerun rewrites the same classes)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from kartoteka.segments import recompute as job


@task()
def recompute_classes() -> dict[str, Any]:
    """Recompute every client's ABC, XYZ, RFM and contact-cycle stage (scheduled nightly)."""
    return job.recompute()
