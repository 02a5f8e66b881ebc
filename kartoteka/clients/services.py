"""Every write to clients: create, update, trash, restore, link, consent.

Views, the API, the CLI, imports and jobs call these; nothing else writes a client.
Each function owns its transaction and the history row it leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients import completeness, derived, field_rules
from kartoteka.clients.custom import clean_custom
from kartoteka.clients.derived import editable_fields
from kartoteka.clients.models import (
    Client,
    ClientEvent,
    ContactKind,
    Email,
    Employment,
    Phone,
    Tag,
)
from kartoteka.clients.validators import normalize_email, normalize_phone
from kartoteka.core import audit
from kartoteka.core.errors import StaleVersion
from kartoteka.dedup import keys as dedup_keys

MAX_TAGS = 50
MAX_CONTACTS = 20


@dataclass(frozen=True)
class PhoneIn:
    number: str
    kind: str = ContactKind.MOBILE


@dataclass(frozen=True)
class EmailIn:
    email: str
    kind: str = ContactKind.WORK


# --- validation -------------------------------------------------------------------------------


def _clean_contacts(
    entries: list[Any], errors: dict[str, list[str]], key: str, normalize: Callable[[str], str]
) -> list[tuple[Any, str]]:
    """Normalise phones or e-mails; errors are keyed "phones.1.number" etc.; duplicates dropped."""
    value_field = "number" if key == "phones" else "email"
    if len(entries) > MAX_CONTACTS:
        errors[key] = [_("At most %(n)d entries.") % {"n": MAX_CONTACTS}]
        return []
    cleaned, seen = [], set()
    for i, entry in enumerate(entries):
        if entry.kind not in ContactKind.values:
            errors[f"{key}.{i}.kind"] = [_("Unknown kind.")]
            continue
        try:
            value = normalize(getattr(entry, value_field))
        except ValidationError as exc:
            errors[f"{key}.{i}.{value_field}"] = list(exc.messages)
            continue
        if value not in seen:
            seen.add(value)
            cleaned.append((entry, value))
    return cleaned


def _clean_tags(names: list[str], errors: dict[str, list[str]]) -> list[str]:
    cleaned = sorted({" ".join(n.split()) for n in names if n.strip()})
    if len(cleaned) > MAX_TAGS or any(len(n) > 60 for n in cleaned):
        errors["tags"] = [_("At most %(n)d tags of up to 60 characters each.") % {"n": MAX_TAGS}]
    return cleaned


def _validate(client: Client, errors: dict[str, list[str]]) -> None:
    """Model-level validation of the scalar fields, merged with the other errors."""
    client.name = client.compose_name()
    try:
        client.full_clean(
            exclude=["tags", "custom"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if client.is_person and not (client.last_name or client.first_name):
        errors.setdefault("last_name", []).append(_("Enter a last name or a first name."))
    if not client.is_person and not client.company_name:
        errors.setdefault("company_name", []).append(_("Enter the company name."))
    if client.external_id:
        clash = Client.all_objects.filter(
            external_system=client.external_system, external_id=client.external_id
        ).exclude(pk=client.pk)
        if clash.exists():
            errors.setdefault("external_id", []).append(
                _("Another client already has this external id.")
            )


# --- derived columns and history --------------------------------------------------------------


def _write_contacts(
    client: Client,
    phones: list[tuple[PhoneIn, str]] | None,
    emails: list[tuple[EmailIn, str]] | None,
) -> None:
    if phones is not None:
        client.phones.all().delete()
        Phone.objects.bulk_create(
            Phone(client=client, kind=p.kind, raw=p.number.strip()[:40], e164=e164, position=i)
            for i, (p, e164) in enumerate(phones)
        )
    if emails is not None:
        client.emails.all().delete()
        Email.objects.bulk_create(
            Email(client=client, kind=e.kind, email=value, position=i)
            for i, (e, value) in enumerate(emails)
        )


def _write_tags(client: Client, names: list[str]) -> None:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    client.tags.set(Tag.objects.filter(name__in=names))


# --- the writes -------------------------------------------------------------------------------


def create_client(
    actor: User | None,
    kind: str,
    fields: dict[str, Any],
    *,
    phones: Sequence[PhoneIn] = (),
    emails: Sequence[EmailIn] = (),
    tags: Sequence[str] = (),
    custom: dict[str, Any] | None = None,
) -> Client:
    """Create a person or a company; ValidationError names every bad field, nothing is written."""
    if kind not in Client.Kind.values:
        raise ValidationError({"kind": [_("Choose person or company.")]})
    client = Client(kind=kind, created_by=actor)
    return _save(
        actor, client, fields, list(phones), list(emails), list(tags), custom or {}, created=True
    )


def update_client(
    actor: User | None,
    client: Client,
    expected_version: int,
    fields: dict[str, Any],
    *,
    phones: Sequence[PhoneIn] | None = None,
    emails: Sequence[EmailIn] | None = None,
    tags: Sequence[str] | None = None,
    custom: dict[str, Any] | None = None,
) -> Client:
    """Change a client read at `expected_version`; StaleVersion if someone saved it since.

    Only the keys given in `fields` change; None for phones/emails/tags/custom keeps them.
    """
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        if locked.version != expected_version:
            raise StaleVersion(locked.version)
        return _save(
            actor,
            locked,
            fields,
            None if phones is None else list(phones),
            None if emails is None else list(emails),
            None if tags is None else list(tags),
            custom,
            created=False,
        )


def _save(
    actor: User | None,
    client: Client,
    fields: dict[str, Any],
    phones: list[PhoneIn] | None,
    emails: list[EmailIn] | None,
    tags: list[str] | None,
    custom: dict[str, Any] | None,
    *,
    created: bool,
) -> Client:
    allowed = editable_fields(client.kind)
    errors: dict[str, list[str]] = {
        name: [_("This field cannot be set.")] for name in fields if name not in allowed
    }
    old_phones, old_emails, old_tags = (
        derived.current_contacts(client) if not created else ([], [], [])
    )
    before = derived.snapshot(client, old_phones, old_emails, old_tags)
    old_owner = client.owner_id
    if created and "owner" not in fields:
        fields = {**fields, "owner": actor}
    # Judged on the client as it is now, before the new owner is written onto it.
    owner_refused = "owner" in fields and not field_rules.may_reassign(
        actor, client, fields["owner"], created
    )
    for name, value in fields.items():
        if name in allowed:
            setattr(
                client, name, "" if value is None and name not in derived.NULLABLE_FIELDS else value
            )
    new_phones = (
        _clean_contacts(phones, errors, "phones", normalize_phone) if phones is not None else None
    )
    new_emails = (
        _clean_contacts(emails, errors, "emails", normalize_email) if emails is not None else None
    )
    new_tags = _clean_tags(tags, errors) if tags is not None else old_tags
    if custom is not None:
        try:
            client.custom = clean_custom(client.kind, custom, partial_of=client.custom)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    elif created:
        try:
            client.custom = clean_custom(client.kind, {})
        except ValidationError as exc:
            errors.update(exc.message_dict)
    _validate(client, errors)
    if errors:
        raise ValidationError(errors)

    phone_list = [e for _p, e in new_phones] if new_phones is not None else old_phones
    email_list = [e for _e, e in new_emails] if new_emails is not None else old_emails
    changes = derived.diff(before, derived.snapshot(client, phone_list, email_list, new_tags))
    field_rules.check_write(actor, client, changes, owner_refused)
    with transaction.atomic():
        derived.refresh_derived(client, phone_list, email_list, new_tags)
        if not created:
            client.version += 1
        try:
            client.save()
        except IntegrityError:
            raise ValidationError(
                {"external_id": [_("Another client already has this external id.")]}
            ) from None
        _write_contacts(client, new_phones, new_emails)
        dedup_keys.refresh(client)
        if tags is not None:
            _write_tags(client, new_tags)
        if not created and client.owner_id != old_owner:
            audit.record(actor, "reassign", client, owner=changes.get("owner"))
        if created or changes:
            verb = ClientEvent.Verb.CREATED if created else ClientEvent.Verb.UPDATED
            ClientEvent.objects.create(client=client, actor=actor, verb=verb, changes=changes)
    return client


def refresh_client(client: Client) -> None:
    """Recompute the derived columns (after a link or a weight changed)."""
    phones, emails, tags = derived.current_contacts(client)
    derived.refresh_derived(client, phones, emails, tags)
    Client.all_objects.filter(pk=client.pk).update(
        primary_phone=client.primary_phone,
        primary_email=client.primary_email,
        search_text=client.search_text,
        completeness=client.completeness,
    )


def trash_client(actor: User | None, client: Client) -> None:
    with transaction.atomic():
        updated = Client.objects.filter(pk=client.pk).update(deleted_at=timezone.now())
        if updated:
            ClientEvent.objects.create(client=client, actor=actor, verb=ClientEvent.Verb.DELETED)
            audit.record(actor, "delete", client)


def restore_client(actor: User | None, client: Client) -> None:
    with transaction.atomic():
        updated = Client.all_objects.filter(pk=client.pk, deleted_at__isnull=False).update(
            deleted_at=None
        )
        if updated:
            ClientEvent.objects.create(client=client, actor=actor, verb=ClientEvent.Verb.RESTORED)
            audit.record(actor, "restore", client)


def _link_change(job: Employment) -> dict[str, Any]:
    """A link's history row; the ids let erasure find the rows that name a person."""
    return {
        "company": job.company.name,
        "person": job.person.name,
        "role": job.role,
        "company_id": job.company_id,
        "person_id": job.person_id,
    }


def link_person(
    actor: User | None, person: Client, company: Client, role: str, position: str = ""
) -> Employment:
    """Record that `person` works at `company` in `role`."""
    errors: dict[str, list[str]] = {}
    if person.kind != Client.Kind.PERSON:
        errors["person"] = [_("Choose a person.")]
    if company.kind != Client.Kind.COMPANY:
        errors["company"] = [_("Choose a company.")]
    if role not in Employment.Role.values:
        errors["role"] = [_("Unknown role.")]
    if len(position) > 150:
        errors["position"] = [_("At most %(n)d characters.") % {"n": 150}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        job, created = Employment.objects.get_or_create(
            person=person, company=company, role=role, defaults={"position": position.strip()}
        )
        if not created and job.position != position.strip():
            job.position = position.strip()
            job.save(update_fields=["position", "updated_at"])
        change = _link_change(job)
        for client in (person, company):
            ClientEvent.objects.create(
                client=client, actor=actor, verb=ClientEvent.Verb.LINKED, changes=change
            )
        refresh_client(company)
    return job


def unlink_person(actor: User | None, job: Employment) -> None:
    with transaction.atomic():
        change = _link_change(job)
        job.delete()
        for client in (job.person, job.company):
            ClientEvent.objects.create(
                client=client, actor=actor, verb=ClientEvent.Verb.UNLINKED, changes=change
            )
        refresh_client(job.company)


def touch_last_contact(client_id: int) -> None:
    """Set a client's last contact from its newest live interaction."""
    touch_last_contacts([client_id])


def touch_last_contacts(client_ids: Iterable[int]) -> None:
    """touch_last_contact for many clients in one statement (the telephony sink's batches).
    On PostgreSQL the same statement locks the rows first, in key order, so two batches
    meeting on the same clients wait for each other rather than deadlock (SQLite writes one
    transaction at a time). In SQL: the ORM's correlated subquery cost more to build than to
    run, and its text, like its IN list, changed with the number of clients."""
    from kartoteka.activities.models import Interaction

    ids = sorted(set(client_ids))
    if not ids:
        return
    q = connection.ops.quote_name
    clients, interactions = q(Client._meta.db_table), q(Interaction._meta.db_table)
    if connection.vendor == "postgresql":
        rows = f"SELECT id FROM {clients} WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE"  # noqa: S608  # nosec B608 - our names
        params: list[Any] = [ids]
    else:
        rows, params = ", ".join(["%s"] * len(ids)), list(ids)
    newest = (
        f"SELECT MAX(i.occurred_at) FROM {interactions} i"  # noqa: S608  # nosec B608 - our names
        f" WHERE i.client_id = {clients}.id AND i.deleted_at IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {clients} SET last_contact_at = ({newest}) WHERE id IN ({rows})",  # noqa: S608  # nosec B608
            params,
        )


def recompute_completeness(kind: str, batch: int = 2000) -> int:
    """Recompute every live client's completeness of `kind` after weights changed."""
    done, last_id = 0, 0
    table = completeness.weights(kind)
    while True:
        ids = list(
            Client.objects.filter(kind=kind, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return done
        for client in Client.objects.filter(pk__in=ids).prefetch_related("tags"):
            staff = (
                client.staff.filter(person__deleted_at__isnull=True).count()
                if "staff" in table
                else 0
            )
            value = completeness.score(client, table, tags=client.tags.all(), staff=staff)
            if value != client.completeness:
                Client.objects.filter(pk=client.pk).update(completeness=value)
        done += len(ids)
        last_id = ids[-1]
