"""A finished call on its client's timeline: one interaction per call, kept in step with the
call card (result, summary, the client chosen when the number matched several)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kartoteka.activities.models import Interaction
from kartoteka.activities.services import log_interaction, trash_interaction, update_interaction
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
