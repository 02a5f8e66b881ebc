"""Writes to the timeline: log, change and trash interactions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client
from kartoteka.clients.services import touch_last_contact, touch_last_contacts
from kartoteka.core import bulk

FIELDS = (
    "kind",
    "occurred_at",
    "channel",
    "subject",
    "summary",
    "direction",
    "duration_seconds",
    "result",
    "amount",
    "currency",
    "items",
    "complaint_status",
    "number",
)
# Currencies accepted for amounts (ISO 4217); extend as the business needs.
CURRENCIES = {"RUB", "USD", "EUR", "CNY", "KZT", "BYN", "UZS", "AMD", "GBP", "TRY", "AED"}
MAX_ITEMS = 500


def _clean_items(items: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if items in (None, ""):
        return []
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        errors["items"] = [_("Items must be a list of at most %(n)d entries.") % {"n": MAX_ITEMS}]
        return []
    cleaned = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not str(item.get("name", "")).strip():
            errors[f"items.{i}.name"] = [_("Each item needs a name.")]
            continue
        try:
            qty = Decimal(str(item.get("quantity", 1)))
            price = Decimal(str(item.get("price", 0)))
        except ArithmeticError:
            errors[f"items.{i}"] = [_("Quantity and price must be numbers.")]
            continue
        if not (qty.is_finite() and price.is_finite()) or qty <= 0 or price < 0:
            errors[f"items.{i}"] = [_("Quantity must be positive and price not negative.")]
            continue
        cleaned.append(
            {"name": str(item["name"]).strip()[:200], "quantity": str(qty), "price": str(price)}
        )
    return cleaned


def _validate(interaction: Interaction, errors: dict[str, list[str]]) -> None:
    kind = interaction.kind
    if interaction.currency:
        interaction.currency = interaction.currency.upper()
        if interaction.currency not in CURRENCIES:
            errors.setdefault("currency", []).append(_("Unknown currency."))
    if interaction.amount is not None and not interaction.currency:
        errors.setdefault("currency", []).append(_("Give the currency of the amount."))
    if kind == Interaction.Kind.PURCHASE and interaction.amount is None:
        errors.setdefault("amount", []).append(_("A purchase needs an amount."))
    if kind == Interaction.Kind.COMPLAINT and not interaction.complaint_status:
        interaction.complaint_status = Interaction.ComplaintStatus.OPEN
    if kind != Interaction.Kind.COMPLAINT:
        interaction.complaint_status = ""
    if interaction.occurred_at and interaction.occurred_at > timezone.now() + dt.timedelta(days=1):
        errors.setdefault("occurred_at", []).append(_("An interaction cannot be in the future."))
    try:
        interaction.full_clean(exclude=["client", "author", "items"], validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)


def _apply(interaction: Interaction, fields: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {
        name: [_("This field cannot be set.")] for name in fields if name not in FIELDS
    }
    for name, value in fields.items():
        if name == "items":
            interaction.items = _clean_items(value, errors)
        elif name in FIELDS:
            nullable = name in ("duration_seconds", "amount", "occurred_at")
            setattr(interaction, name, value if value is not None or nullable else "")
    if interaction.occurred_at is None:
        interaction.occurred_at = timezone.now()
    _validate(interaction, errors)
    return errors


def log_interaction(actor: User | None, client: Client, fields: dict[str, Any]) -> Interaction:
    """Add an interaction to `client`'s timeline; ValidationError names bad fields."""
    interaction = Interaction(client=client, author=actor)
    errors = _apply(interaction, fields)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        interaction.save()
        touch_last_contact(client.pk)
    return interaction


# One new interaction for log_interactions: (author id, client id, fields).
NewInteraction = tuple[int | None, int, dict[str, Any]]


def log_interactions(entries: Sequence[NewInteraction]) -> list[Interaction]:
    """log_interaction for many at once (the telephony sink's batches): the same checks, one
    INSERT and one last-contact update; all or nothing — a ValidationError names each bad
    entry by its index ("3.subject"). Returns the rows, with their ids, in `entries`' order."""
    rows: list[Interaction] = []
    errors: dict[str, list[str]] = {}
    for index, (author_id, client_id, fields) in enumerate(entries):
        interaction = Interaction(client_id=client_id, author_id=author_id)
        for name, messages in _apply(interaction, fields).items():
            errors[f"{index}.{name}"] = messages
        rows.append(interaction)
    if errors:
        raise ValidationError(errors)
    if rows:  # in the caller's transaction if there is one: no savepoint's two round trips
        with transaction.atomic(savepoint=False):
            bulk.insert_models(rows)
            touch_last_contacts(row.client_id for row in rows)
    return rows


def update_interaction(
    actor: User | None, interaction: Interaction, fields: dict[str, Any]
) -> Interaction:
    with transaction.atomic():
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        errors = _apply(locked, fields)
        if errors:
            raise ValidationError(errors)
        locked.save()
        touch_last_contact(locked.client_id)
    return locked


def trash_interaction(actor: User | None, interaction: Interaction) -> None:
    with transaction.atomic():
        Interaction.objects.filter(pk=interaction.pk).update(deleted_at=timezone.now())
        touch_last_contact(interaction.client_id)
