"""Reassigning clients, one by one or in bulk: all of them or none.

(Open tasks and deals follow their client once the planner and sales modules exist.)
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients import services
from kartoteka.clients.models import Client, ClientEvent
from kartoteka.core import audit, permissions
from kartoteka.core.permissions import Action, Scope

MAX_BATCH = 10_000


def reassign_clients(actor: User, ids: Iterable[int], owner: User | None) -> int:
    """Give the clients `ids` to `owner`; refuses the whole batch if any id may not be touched."""
    wanted = sorted({int(i) for i in ids if 0 < int(i) < 2**63})
    if not wanted or len(wanted) > MAX_BATCH:
        raise ValidationError({"ids": [_("Choose from 1 to %(n)d clients.") % {"n": MAX_BATCH}]})
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": [_("Choose an active user.")]})
    level = permissions.scope_of(actor, "client", Action.REASSIGN)
    team = permissions.rights(actor).team_ids
    if owner is not None and level is Scope.TEAM and owner.pk not in team:
        raise ValidationError(
            {"owner": [_("Your role may hand clients only to members of your teams.")]}
        )
    with transaction.atomic():
        rows = permissions.scope(actor, Action.REASSIGN, Client.objects.filter(pk__in=wanted))
        found = list(rows.select_for_update().values_list("pk", "owner_id"))
        refused = sorted(set(wanted) - {pk for pk, _owner in found})
        if refused:
            shown = ", ".join(str(pk) for pk in refused[:20])
            raise ValidationError(
                {"ids": [_("You may not reassign these clients: %(ids)s.") % {"ids": shown}]}
            )
        new_id = owner.pk if owner else None
        changing = [(pk, old) for pk, old in found if old != new_id]
        moving = [pk for pk, _old in changing]
        Client.objects.filter(pk__in=moving).update(owner=owner, version=F("version") + 1)
        new_name = str(owner) if owner else ""
        names = {
            u.pk: str(u) for u in User.objects.filter(pk__in={old for _pk, old in found if old})
        }
        ClientEvent.objects.bulk_create(
            ClientEvent(
                client_id=pk,
                actor=actor,
                verb=ClientEvent.Verb.UPDATED,
                changes={"owner": [names.get(old, "") if old else "", new_name]},
            )
            for pk, old in changing
        )
        # Completeness counts only whether there is an owner: recompute where that flips.
        flips = [pk for pk, old in changing if (old is None) != (new_id is None)]
        for client in Client.objects.filter(pk__in=flips):
            services.refresh_client(client)
        audit.record(actor, "reassign", kind="client", target_id="", ids=moving, owner=new_name)
    return len(moving)
