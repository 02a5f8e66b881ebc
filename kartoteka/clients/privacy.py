"""Personal data: the consent ledger, subject requests and erasure."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients.models import Channel, Client, ClientEvent, Consent


def record_consent(
    actor: User | None,
    client: Client,
    channel: str,
    granted: bool,
    source: str = "",
    at: dt.datetime | None = None,
) -> Consent:
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("Unknown channel.")]})
    with transaction.atomic():
        consent = Consent.objects.create(
            client=client,
            channel=channel,
            granted=granted,
            source=source.strip()[:200],
            recorded_at=at or timezone.now(),
            recorded_by=actor,
        )
        ClientEvent.objects.create(
            client=client,
            actor=actor,
            verb=ClientEvent.Verb.CONSENT,
            changes={"channel": channel, "granted": granted, "source": consent.source},
        )
    return consent
