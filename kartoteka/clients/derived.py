"""Columns derived from a client's data, and the snapshots its history rows are made of."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from kartoteka.clients import completeness
from kartoteka.clients.models import Client

# A person's INN is their individual taxpayer number (12 digits): sole traders, self-employed.
PERSON_FIELDS = ("last_name", "first_name", "middle_name", "inn", "birthday", "passport", "income")
COMPANY_FIELDS = ("company_name", "legal_form", "inn", "kpp", "ogrn", "company_day", "website")
# Fields that hold NULL, not "", when empty.
NULLABLE_FIELDS = {"birthday", "company_day", "owner", "income"}
COMMON_FIELDS = (
    "address",
    "description",
    "owner",
    "source",
    "stage",
    "external_system",
    "external_id",
)


def editable_fields(kind: str) -> tuple[str, ...]:
    own = PERSON_FIELDS if kind == Client.Kind.PERSON else COMPANY_FIELDS
    return own + COMMON_FIELDS


def search_text(client: Client, phones: list[str], emails: list[str]) -> str:
    return search_words(
        [client.name, client.company_name, client.inn, client.ogrn, client.external_id, *emails],
        phones,
    )


def search_words(texts: list[str], phones: list[str]) -> str:
    """The text the substring index holds: names, ids, e-mails and phones as people type them."""
    parts = list(texts)
    for e164 in phones:
        digits = e164.lstrip("+")
        parts.append(digits)
        if digits.startswith("7") and len(digits) == 11:
            parts.append("8" + digits[1:])
    return " ".join(p for p in parts if p).lower().replace("ё", "е")


def plain(value: Any) -> Any:
    """A value as JSON can hold it, for the history rows."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(
    client: Client, phones: list[str], emails: list[str], tags: list[str]
) -> dict[str, Any]:
    data: dict[str, Any] = {
        f: getattr(client, f) for f in editable_fields(client.kind) if f != "owner"
    }
    data["owner"] = str(client.owner) if client.owner_id else ""
    data = {k: plain(v) for k, v in data.items()}
    data["phones"] = phones
    data["emails"] = emails
    data["tags"] = tags
    data.update({f"custom.{k}": v for k, v in client.custom.items()})
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    keys = before.keys() | after.keys()
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def refresh_derived(client: Client, phones: list[str], emails: list[str], tags: list[str]) -> None:
    client.primary_phone = phones[0] if phones else ""
    client.primary_email = emails[0] if emails else ""
    client.search_text = search_text(client, phones, emails)
    staff = client.staff.filter(person__deleted_at__isnull=True).count() if client.pk else 0
    client.completeness = completeness.score(
        client, completeness.weights(client.kind), tags=tags, staff=staff
    )


def current_contacts(client: Client) -> tuple[list[str], list[str], list[str]]:
    return (
        list(client.phones.values_list("e164", flat=True)),
        list(client.emails.values_list("email", flat=True)),
        list(client.tags.values_list("name", flat=True)),
    )
