"""Phones and e-mails of a record being typed in, normalised the way the clients' service does."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from kartoteka.clients.validators import normalize_email, normalize_phone


def draft_contacts(phones: Iterable[str], emails: Iterable[str]) -> tuple[list[str], list[str]]:
    """What can be normalised of what was typed (half-typed numbers are skipped, not refused)."""
    out_phones, out_emails = [], []
    for raw in phones:
        if raw and raw.strip():
            try:
                out_phones.append(normalize_phone(raw))
            except ValidationError:
                continue
    for raw in emails:
        if raw and raw.strip():
            try:
                out_emails.append(normalize_email(raw))
            except ValidationError:
                continue
    return out_phones, out_emails
