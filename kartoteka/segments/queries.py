"""Reads of classes and segments that pages, the API, routing and exports share."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kartoteka.clients.models import Client
from kartoteka.clients.queries import visible_clients
from kartoteka.core import permissions
from kartoteka.core.permissions import Action, AnyUser
from kartoteka.segments.models import ClassChange, ClientClass, Segment, SegmentMember
from kartoteka.segments.rules import compile_rules

CARD_HISTORY = 12


def client_class(client_id: int) -> ClientClass | None:
    """The client's current classes (None before the first recompute, or for a new client).

    Not scoped: callers (call routing, rules) have already chosen a client they may handle.
    Lists join `ClientClass` instead (`Client.objects.filter(analytics__abc="A")`).
    """
    return ClientClass.objects.filter(client_id=client_id).first()


def card_analytics(client: Client) -> dict[str, Any]:
    """What the client card shows: the current classes and the latest changes (two queries)."""
    return {
        "current": client_class(client.pk),
        "history": list(ClassChange.objects.filter(client=client)[:CARD_HISTORY]),
    }


def visible_segments(user: AnyUser) -> QuerySet[Segment]:
    """Segments the user may use: their own and the shared ones (all, for administrators)."""
    if permissions.scope_of(user, "client", Action.VIEW) is permissions.Scope.NONE:
        return Segment.objects.none()
    if permissions.rights(user).is_admin:
        return Segment.objects.all()
    return Segment.objects.filter(Q(created_by_id=getattr(user, "pk", None)) | Q(shared=True))


def may_change(user: AnyUser, segment: Segment) -> bool:
    return segment.created_by_id == getattr(user, "pk", None) or permissions.rights(user).is_admin


def segment_or_404(user: AnyUser, pk: int) -> Segment:
    """A segment the user may see, or 404 (other people's private segments look absent)."""
    found = visible_segments(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def changeable_segment(user: AnyUser, pk: int) -> Segment:
    """A segment the user may see and change: 404 when unseen, Denied when only seen."""
    segment = segment_or_404(user, pk)
    if not may_change(user, segment):
        raise permissions.Denied(Action.EDIT)
    return segment


def condition(segment: Segment, user: AnyUser) -> Q:
    """The clients of `segment`, as a condition on clients (to apply to a scoped queryset).

    A dynamic segment is compiled for this viewer: a field they may not see is refused
    (ValidationError), so a shared segment never filters on what its viewer cannot read.
    """
    if segment.kind == Segment.Kind.STATIC:
        return Q(pk__in=SegmentMember.objects.filter(segment=segment).values("client_id"))
    return compile_rules(segment.rules, user)


def clients_of(segment: Segment, user: AnyUser, action: Action = Action.VIEW) -> QuerySet[Client]:
    return visible_clients(user, action).filter(condition(segment, user))


def count(segment: Segment, user: AnyUser) -> int:
    """How many of the clients `user` may see are in `segment`."""
    return clients_of(segment, user).count()
