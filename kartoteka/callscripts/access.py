"""Who may edit call scripts and who may walk one on a call.

The role matrix has no row for scripts: they follow the "call" row. Supervisors — roles that
edit calls beyond their own (head of sales: the team; administrators: all) — edit scripts.
Anyone who sees calls reads them. On a call, answering is editing the call: the call's own
operator (scope own) and supervisors of the team may; others who see the call read the path.
"""

from __future__ import annotations

from kartoteka.core import permissions
from kartoteka.core.permissions import Action, AnyUser, Denied, Scope


def may_edit(user: AnyUser) -> bool:
    return permissions.scope_of(user, "call", Action.EDIT) >= Scope.TEAM


def may_read(user: AnyUser) -> bool:
    return permissions.scope_of(user, "call", Action.VIEW) >= Scope.OWN


def require_edit(user: AnyUser) -> None:
    if not may_edit(user):
        raise Denied(Action.EDIT)


def require_read(user: AnyUser) -> None:
    if not may_read(user):
        raise Denied(Action.VIEW)
