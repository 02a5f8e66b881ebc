"""Who may open the analytics pages, and which owners' figures a viewer's dashboards sum.

The role matrix has no "analytics" row: the pages follow what a role may see. A role that views
clients and deals beyond its own (head of sales: the team; marketer, analyst: all;
administrators) sees the dashboards; a manager (own clients) and an operator (no deals) do not.
The dashboards sum per-owner cells, narrowed to the owners whose clients the viewer may see,
so a head of sales sees his team's figures and a marketer everyone's.
"""

from __future__ import annotations

from django.db.models import Q

from kartoteka.core import permissions
from kartoteka.core.permissions import Action, AnyUser, Denied, Scope


def may_view(user: AnyUser) -> bool:
    who = permissions.rights(user)
    if who.user_id is None:
        return False
    if who.is_admin:
        return True
    return (
        who.scope("client", Action.VIEW) >= Scope.TEAM
        and who.scope("deal", Action.VIEW) >= Scope.TEAM
    )


def require(user: AnyUser) -> None:
    if not may_view(user):
        raise Denied(Action.VIEW)


def owners(user: AnyUser, kind: str = "client", path: str = "owner") -> Q | None:
    """The per-owner cells `user` may sum, as a condition on `path` (None: none at all)."""
    who = permissions.rights(user)
    level = who.scope(kind, Action.VIEW) if who.user_id else Scope.NONE
    if level is Scope.NONE:
        return None
    if level is Scope.ALL:
        return Q()
    if level is Scope.OWN:
        return Q(**{f"{path}_id": who.user_id})
    # A team also sees the unassigned clients, as the permissions engine's lists do.
    return Q(**{f"{path}_id__in": sorted(who.team_ids)}) | Q(**{f"{path}__isnull": True})


def visible_owner_ids(user: AnyUser) -> set[int] | None:
    """The owners whose figures `user` may see; None for everyone."""
    who = permissions.rights(user)
    if who.is_admin or who.scope("client", Action.VIEW) is Scope.ALL:
        return None
    if who.scope("client", Action.VIEW) is Scope.TEAM:
        return set(who.team_ids)
    return {who.user_id} if who.user_id else set()
