"""Background jobs for clients: thin and idempotent, enqueued after commit."""

from __future__ import annotations

from django_tasks import task

from kartoteka.clients import services


@task()
def recompute_completeness(kind: str) -> int:
    """Recompute completeness of every `kind` client after the weights changed."""
    return services.recompute_completeness(kind)


@task()
def apply_retention() -> dict[str, int]:
    """The nightly retention run: erase what has outlived its rule."""
    from kartoteka.clients import privacy

    return privacy.apply_retention()
