"""Reads of classes and segments that pages, the API, routing and exports share."""

from __future__ import annotations

from kartoteka.segments.models import ClientClass


def client_class(client_id: int) -> ClientClass | None:
    """The client's current classes (None before the first recompute, or for a new client).

    Not scoped: callers (call routing, rules) have already chosen a client they may handle.
    """
    return ClientClass.objects.filter(client_id=client_id).first()
