"""Helpers for the sales tests: the seeded pipeline's stages, clients, deals, a snapshot."""

from __future__ import annotations

from typing import Any

from kartoteka.accounts.models import User
from kartoteka.clients import services as client_services
from kartoteka.clients.models import Client
from kartoteka.core.models import AuditEntry
from kartoteka.sales import services
from kartoteka.sales.models import Deal, LossReason, Pipeline, Stage, StageChange

# The seeded pipeline (the transactional blueprint), stage by position.
NEW, NEEDS, OFFER, INVOICE, WON, LOST = range(6)


def first_pipeline() -> Pipeline:
    """The pipeline migration 0002 seeds (made again if a flushing test removed it)."""
    found = Pipeline.objects.order_by("position", "id").first()
    return found or services.install_blueprint(None, "transactional")


def stage(position: int, pipeline: Pipeline | None = None) -> Stage:
    return (pipeline or first_pipeline()).stages.get(position=position)


def reason() -> LossReason:
    first_pipeline()
    return LossReason.objects.order_by("position", "id").first()  # type: ignore[return-value]


def person(owner: User | None, last_name: str = "Рябов") -> Client:
    return client_services.create_client(
        None, Client.Kind.PERSON, {"last_name": last_name, "owner": owner}
    )


def company(owner: User | None, name: str = "Ромашка") -> Client:
    return client_services.create_client(
        None, Client.Kind.COMPANY, {"company_name": name, "owner": owner}
    )


def deal(owner: User | None, client: Client | None = None, **fields: Any) -> Deal:
    """A deal made by the system (no permission checks) for `owner`."""
    fields.setdefault("title", "Поставка")
    fields["client"] = client or person(owner)
    fields["owner"] = owner
    return services.create_deal(None, fields)


def snapshot() -> list[Any]:
    """Every row a deal operation could write, to assert a refused request changed nothing."""
    return [
        list(Deal.all_objects.order_by("pk").values()),
        list(StageChange.objects.order_by("pk").values()),
        list(Deal.contacts.through.objects.order_by("pk").values()),
        list(Pipeline.objects.order_by("pk").values()),
        list(Stage.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    ]
