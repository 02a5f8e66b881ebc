"""Who may do what in the contact centre: one place for the "is a supervisor" questions.

The role matrix has no rows for boards, scripts, menus or routing: they all follow the "call"
row of the permissions engine. Four levels, each a predicate and a `require_*` that raises 403:

- `sees_calls`: sees calls at all (own, team's, all): the KPIs (their own figures), reading
  scripts on a call.
- `supervises`: sees the calls of a team or of everyone: the board, the wallboard, waiting
  calls, staffing, others' KPIs, reading the team's quality evaluations and scorecards.
- `runs_centre`: edits the calls of a team or of everyone: call scripts, voice menus, and
  quality scorecards, samples and evaluations (seeing calls is not enough: an analyst must not
  score operators).
- `configures_routing`: administrators, or edits every operator's calls: the ACD (skills and
  queue routing change everyone's calls, so a team's head is not enough).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from kartoteka.core import permissions
from kartoteka.core.permissions import Action, AnyUser, Denied, Scope


def _view(user: AnyUser) -> Scope:
    return permissions.scope_of(user, "call", Action.VIEW)


def _edit(user: AnyUser) -> Scope:
    return permissions.scope_of(user, "call", Action.EDIT)


def sees_calls(user: AnyUser) -> bool:
    return _view(user) >= Scope.OWN


def supervises(user: AnyUser) -> bool:
    return _view(user) >= Scope.TEAM


def runs_centre(user: AnyUser) -> bool:
    return _edit(user) >= Scope.TEAM


def configures_routing(user: AnyUser) -> bool:
    return permissions.can(user, Action.CONFIGURE) or _edit(user) is Scope.ALL


def exports_calls(user: AnyUser) -> bool:
    """Downloads what it sees of calls (a KPI CSV): the role's export right must reach as far
    as its view (a sales manager and an analyst have none)."""
    view = _view(user)
    return view is not Scope.NONE and permissions.scope_of(user, "call", Action.EXPORT) >= view


def _require(allowed: bool, action: Action) -> None:
    if not allowed:
        raise Denied(action)


def require_export(user: AnyUser) -> None:
    _require(exports_calls(user), Action.EXPORT)


def require_calls(user: AnyUser) -> None:
    _require(sees_calls(user), Action.VIEW)


def require_supervisor(user: AnyUser) -> None:
    _require(supervises(user), Action.VIEW)


def require_runs_centre(user: AnyUser) -> None:
    _require(runs_centre(user), Action.EDIT)


def require_routing(user: AnyUser) -> None:
    _require(configures_routing(user), Action.CONFIGURE)


def _granted(action: Action, least: Scope) -> Q:
    """A filter on users: administrators, and roles granting `action` on calls at `least`."""
    from kartoteka.accounts.models import Grant

    grants = Grant.objects.filter(
        role=OuterRef("role"), kind="call", action=action.value, scope__gte=least
    )
    return Q(is_superuser=True) | Q(role__is_admin=True) | Q(Exists(grants))


def centre_runners() -> Q:
    """`runs_centre`, in SQL: who can be handed a quality worklist."""
    return _granted(Action.EDIT, Scope.TEAM)


def routing_users() -> Q:
    """`configures_routing`, in SQL: the ACD's supervisors (the router's last resort)."""
    return _granted(Action.EDIT, Scope.ALL)


def nav(user: AnyUser) -> dict[str, bool]:
    """Which of the contact centre's pages the user may open (the nav hides the others)."""
    return {
        "calls": sees_calls(user),
        "supervises": supervises(user),
        "runs_centre": runs_centre(user),
        "routing": configures_routing(user),
        "configure": permissions.can(user, Action.CONFIGURE),
    }
