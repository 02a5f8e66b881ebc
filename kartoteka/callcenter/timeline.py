"""A finished call on its client's timeline: one interaction per call, kept in step with the
call card (result, summary, the client chosen when the number matched several).

`sync` writes one call's entry; `sync_many` the entries of a batch of the telephony sink
(callcenter.batch) at its end: the new ones in one INSERT and their clients' last contact in
one UPDATE — what was 7 statements per ended call. The batch then writes the calls, and with
them their links."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from kartoteka.activities.models import Interaction
from kartoteka.activities.services import (
    log_interaction,
    log_interactions,
    trash_interaction,
    update_interaction,
)
from kartoteka.callcenter.models import Call
from kartoteka.clients.models import Client
from kartoteka.clients.validators import format_phone


def _fields(call: Call) -> dict[str, Any]:
    number = format_phone(call.number_e164) if call.number_e164 else call.number
    if call.direction == Call.Direction.INBOUND:
        subject = _("Inbound call from %(number)s") % {"number": number}
    else:
        subject = _("Outbound call to %(number)s") % {"number": number}
    result = call.disposition.name if call.disposition else str(call.get_status_display())
    return {
        "kind": Interaction.Kind.CALL,
        "occurred_at": call.started_at,
        "channel": Interaction.Channel.PHONE,
        "direction": call.direction,
        "duration_seconds": call.talk_seconds,
        "subject": subject[:300],
        "summary": call.summary,
        "result": result[:200],
    }


def sync(call: Call, *, link: bool = True) -> None:
    """Create or update the call's interaction (inside the caller's transaction); with
    link=False the caller saves the call, and with it the link to a new interaction."""
    if call.client_id is None:
        return
    current = (
        Interaction.objects.filter(pk=call.interaction_id).first() if call.interaction_id else None
    )
    if current is not None and current.client_id == call.client_id:
        update_interaction(None, current, _fields(call))
        return
    if current is not None:  # the operator linked the call to another client
        trash_interaction(None, current)
    client = Client.objects.filter(pk=call.client_id).first()
    if client is None:  # in the trash
        return
    interaction = log_interaction(call.user, client, _fields(call))
    call.interaction = interaction
    if link:
        Call.objects.filter(pk=call.pk).update(interaction=interaction)


def sync_many(calls: Sequence[Call]) -> None:
    """`sync(call, link=False)` for many calls: their new entries written together; the
    caller saves the calls. A call is given once, in its final state of the batch (its entry
    shows that)."""
    new = [c for c in calls if c.interaction_id is None]
    for call in calls:
        if call.interaction_id is not None:  # an entry to update: rare in a batch
            sync(call, link=False)
    ids = {c.client_id for c in new if c.client_id is not None}
    if not ids:
        return
    live = set(Client.objects.filter(pk__in=ids).values_list("pk", flat=True))
    new = [c for c in new if c.client_id in live]  # a client in the trash gets no entry
    made = log_interactions([(c.user_id, c.client_id or 0, _fields(c)) for c in new])
    for call, interaction in zip(new, made, strict=True):
        call.interaction = interaction
