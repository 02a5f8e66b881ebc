from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_search_index(using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    from kartoteka.clients.search_index import ensure

    ensure(connections[using])


class ClientsConfig(AppConfig):
    name = "kartoteka.clients"
    label = "clients"

    def ready(self) -> None:
        # SQLite table rebuilds in later migrations drop the search triggers: restore them.
        post_migrate.connect(_ensure_search_index, sender=self)
