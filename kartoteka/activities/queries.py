"""Reads of the timeline, scoped through the clients a user may see."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, Max, OuterRef, QuerySet

from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client
from kartoteka.clients.queries import links_of, visible_clients
from kartoteka.core import permissions
from kartoteka.core.pagination import Page, keyset_page
from kartoteka.core.permissions import Action, AnyUser


def visible_interactions(user: AnyUser) -> QuerySet[Interaction]:
    """Interactions the user may see, on clients the user may see."""
    # A correlated EXISTS: the newest-first index drives the page and each row's client is
    # checked by its key. `client IN (visible clients)` makes SQLite build the whole list first.
    visible = visible_clients(user).filter(pk=OuterRef("client_id"))
    return permissions.scope(user, Action.VIEW, Interaction.objects.filter(Exists(visible)))


def _on_timeline(client: Client, viewer: AnyUser) -> QuerySet[Interaction]:
    """The interactions of the client's timeline that the viewer's role lets them see."""
    rows = Interaction.objects.filter(client_id__in=timeline_client_ids(client, viewer))
    return permissions.scope(viewer, Action.VIEW, rows)


def timeline_client_ids(client: Client, viewer: AnyUser) -> list[int]:
    """A company's timeline includes its people's that `viewer` may see; a person's is their own.

    Kept on the client object, as the card asks twice.
    """
    cached: list[int] | None = getattr(client, "_timeline_ids", None)
    if cached is None:
        cached = [client.pk]
        if not client.is_person:
            cached += [link.person_id for link in links_of(client, viewer)]
        client._timeline_ids = cached  # type: ignore[attr-defined]
    return cached


def timeline(
    client: Client,
    viewer: AnyUser,
    *,
    kind: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    cursor: str | None = None,
    size: int = 30,
) -> Page[Interaction]:
    """A page of the client's timeline, newest first. The caller has checked the client."""
    rows = _on_timeline(client, viewer).select_related("author", "client")
    if kind:
        rows = rows.filter(kind=kind)
    if since:
        rows = rows.filter(occurred_at__date__gte=since)
    if until:
        rows = rows.filter(occurred_at__date__lte=until)
    return keyset_page(rows, "occurred_at", True, cursor, size)


def colleagues(client: Client, viewer: AnyUser, since: dt.datetime) -> list[dict]:
    """Who in the company works with this client: authors of its interactions since `since`."""
    rows = (
        _on_timeline(client, viewer)
        .filter(occurred_at__gte=since)
        .exclude(author=None)
        .values("author_id", "author__username", "author__first_name", "author__last_name")
        .annotate(count=Count("id"), last=Max("occurred_at"))
        .order_by("-last")[:20]
    )
    return [
        {
            "id": r["author_id"],
            "name": f"{r['author__first_name']} {r['author__last_name']}".strip()
            or r["author__username"],
            "count": r["count"],
            "last": r["last"],
        }
        for r in rows
    ]
