"""Personal data (152-FZ, GDPR): the consent ledger, subject requests, erasure and retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.activities.services import FIELDS as INTERACTION_FIELDS
from kartoteka.clients import derived
from kartoteka.clients.models import (
    Channel,
    Client,
    ClientEvent,
    Consent,
    Employment,
    RetentionRule,
)
from kartoteka.core import audit
from kartoteka.dedup import keys as dedup_keys

ERASED_NAME = "—"


def record_consent(
    actor: User | None,
    client: Client,
    channel: str,
    granted: bool,
    source: str = "",
    at: dt.datetime | None = None,
    *,
    purpose: str = Consent.Purpose.MARKETING,
    text_version: str = "",
) -> Consent:
    """Add a row to the ledger: a consent given, or withdrawn (granted=False)."""
    errors = {}
    if channel not in Channel.values:
        errors["channel"] = [_("Unknown channel.")]
    if purpose not in Consent.Purpose.values:
        errors["purpose"] = [_("Unknown purpose.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        consent = Consent.objects.create(
            client=client,
            channel=channel,
            purpose=purpose,
            granted=granted,
            text_version=text_version.strip()[:40],
            source=source.strip()[:200],
            recorded_at=at or timezone.now(),
            recorded_by=actor,
        )
        ClientEvent.objects.create(
            client=client,
            actor=actor,
            verb=ClientEvent.Verb.CONSENT,
            changes={
                "channel": channel,
                "purpose": purpose,
                "granted": granted,
                "source": consent.source,
            },
        )
    return consent


def may_contact(client: Client, channel: str, purpose: str = Consent.Purpose.MARKETING) -> bool:
    """Whether the newest ledger row for this channel and purpose is a consent given.

    Every path that sends anything asks this first; no row means no consent.
    """
    latest = (
        client.consents.filter(channel=channel, purpose=purpose)
        .order_by("-recorded_at", "-id")
        .first()
    )
    return bool(latest and latest.granted and client.erased_at is None)


def subject_data(client: Client) -> dict[str, Any]:
    """Everything Kartoteka stores about a client, for a subject access request."""
    fields = ["kind", "name", *derived.editable_fields(client.kind), "created_at", "updated_at"]
    card = {f: derived.plain(getattr(client, f"{f}_id" if f == "owner" else f)) for f in fields}
    jobs = Employment.objects.filter(person=client) | Employment.objects.filter(company=client)
    return {
        "client": {**card, "id": client.pk, "custom": client.custom},
        "phones": [
            {"kind": p.kind, "number": p.e164, "as_entered": p.raw} for p in client.phones.all()
        ],
        "emails": [{"kind": e.kind, "email": e.email} for e in client.emails.all()],
        "tags": list(client.tags.values_list("name", flat=True)),
        "positions": [
            {
                "person": j.person.name,
                "company": j.company.name,
                "role": j.role,
                "position": j.position,
            }
            for j in jobs.select_related("person", "company")
        ],
        "consents": [
            {
                "channel": c.channel,
                "purpose": c.purpose,
                "granted": c.granted,
                "at": derived.plain(c.recorded_at),
                "source": c.source,
                "text_version": c.text_version,
            }
            for c in client.consents.order_by("recorded_at", "id")
        ],
        "interactions": [
            {f: derived.plain(getattr(i, f)) for f in INTERACTION_FIELDS}
            for i in Interaction.all_objects.filter(client=client).order_by("occurred_at", "id")
        ],
        "history": [
            {"at": derived.plain(e.at), "verb": e.verb, "changes": e.changes}
            for e in client.events.order_by("at", "id")
        ],
    }


def subject_request(actor: User | None, client: Client) -> dict[str, Any]:
    data = subject_data(client)
    audit.record(actor, "subject_request", client)
    return data


def subject_pdf(data: dict[str, Any]) -> bytes:
    """The subject request as a PDF (WeasyPrint needs Pango; imported only when asked)."""
    from weasyprint import HTML

    html = render_to_string("clients/subject_request.html", {"data": data, "now": timezone.now()})
    return bytes(HTML(string=html).write_pdf())


def erase_client(actor: User | None, client: Client, reason: str = "") -> None:
    """Anonymise a client: identity goes from the card, timeline texts and history; amounts and
    dates stay for the reports. Irreversible, and logged."""
    with transaction.atomic():
        locked = Client.all_objects.select_for_update().get(pk=client.pk)
        blank = {
            f: "" for f in derived.editable_fields(locked.kind) if f not in derived.NULLABLE_FIELDS
        }
        for field, value in blank.items():
            if field not in ("stage", "source"):
                setattr(locked, field, value)
        locked.birthday = locked.company_day = locked.income = None
        locked.custom = {}
        if locked.is_person:
            locked.last_name = ERASED_NAME
        else:
            locked.company_name = ERASED_NAME
        locked.phones.all().delete()
        locked.emails.all().delete()
        locked.tags.clear()
        locked.name = locked.compose_name()
        derived.refresh_derived(locked, [], [], [])
        locked.erased_at = timezone.now()
        locked.version += 1
        locked.save()
        dedup_keys.forget(locked)
        Interaction.all_objects.filter(client=locked).update(subject="", summary="", result="")
        locked.events.update(changes={})
        # Link rows on the companies (or people) at the other end name this client too.
        side = "person_id" if locked.is_person else "company_id"
        ClientEvent.objects.filter(
            verb__in=[ClientEvent.Verb.LINKED, ClientEvent.Verb.UNLINKED],
            **{f"changes__{side}": locked.pk},
        ).update(changes={})
        ClientEvent.objects.create(client=locked, actor=actor, verb=ClientEvent.Verb.ERASED)
        audit.record(actor, "erase", locked, reason=reason[:500])


def apply_retention(now: dt.datetime | None = None) -> dict[str, int]:
    """Apply every retention rule once; returns how many records each rule touched."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    for rule in RetentionRule.objects.all():
        cutoff = now - dt.timedelta(days=rule.days)
        if rule.kind == RetentionRule.Kind.TIMELINE:
            old = Interaction.all_objects.filter(occurred_at__lt=cutoff).exclude(
                summary="", subject="", result=""
            )
            done[rule.kind] = old.update(subject="", summary="", result="")
            continue
        if rule.kind == RetentionRule.Kind.TRASH:
            due = Client.all_objects.filter(deleted_at__lt=cutoff, erased_at__isnull=True)
        else:
            due = Client.objects.filter(erased_at__isnull=True, created_at__lt=cutoff).exclude(
                last_contact_at__gte=cutoff
            )
        count = 0
        for client in due.iterator(chunk_size=500):
            erase_client(None, client, reason=f"retention: {rule.kind} {rule.days} days")
            count += 1
        done[rule.kind] = count
    return done
