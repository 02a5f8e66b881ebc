"""Background jobs for duplicates: thin and idempotent."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from kartoteka.dedup import services


@task()
def scan() -> dict[str, Any]:
    """The scheduled scan over all clients: refills the review queue."""
    result = services.scan()
    return {"clients": result.clients, "pairs": len(result.pairs), "merged": result.merged}
