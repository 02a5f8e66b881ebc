"""One row of a file into a record ready to store, or the list of its problems.

No database access here but through `Context`, which is read once per import: the users that
can be named as owners or authors, the choices, the custom fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.activities.services import CURRENCIES
from kartoteka.clients import field_rules
from kartoteka.clients.custom import clean_custom, definitions
from kartoteka.clients.models import Client, Employment
from kartoteka.clients.services import MAX_CONTACTS, MAX_TAGS
from kartoteka.clients.validators import (
    normalize_email,
    normalize_phone,
    validate_inn,
    validate_kpp,
    validate_ogrn,
)
from kartoteka.transfer import values
from kartoteka.transfer.fields import CLIENT_KIND
from kartoteka.transfer.models import Entity
from kartoteka.transfer.values import Problem

Errors = list[tuple[str, str]]  # (field, message)


@dataclass(slots=True)
class ClientRecord:
    row: int
    fields: dict[str, Any]
    phones: list[tuple[str, str]] = field(default_factory=list)  # (as typed, E.164)
    emails: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    company: str = ""  # a person's employer, found or created by name
    position: str = ""
    contact: ClientRecord | None = None  # a company's contact person
    cells: list[Any] = field(default_factory=list)  # the row as read, for the rejected-rows file


@dataclass(slots=True)
class InteractionRecord:
    row: int
    keys: dict[str, str]  # how to find the client: external_id, inn, phone, email
    fields: dict[str, Any]
    item: dict[str, Any] | None = None  # a purchase's line
    cells: list[Any] = field(default_factory=list)


class Context:
    """What parsing needs from the database, read once."""

    def __init__(self, entity: str, actor: User | None) -> None:
        self.entity = entity
        self.actor = actor
        self.kind = CLIENT_KIND.get(entity, "")
        self.users = _user_names()
        self.sources = values.choice_map(Client.Source)
        self.stages = values.choice_map(Client.Stage)
        self.kinds = values.choice_map(Interaction.Kind)
        self.channels = values.choice_map(Interaction.Channel)
        self.directions = values.choice_map(Interaction.Direction)
        self.custom_fields = {f.key: f for f in definitions(self.kind)} if self.kind else {}
        self.custom_required = any(f.required for f in self.custom_fields.values())
        self._owners = _owners(actor, self.kind or Client.Kind.PERSON)
        self.scalars = _scalars(self)

    def user(self, value: Any) -> int:
        found = self.users.get(str(value).strip().lower())
        if found is None:
            raise Problem(_("There is no user %(value)s.") % {"value": str(value)[:60]})
        return found

    def owner(self, value: Any) -> int:
        owner_id = self.user(value)
        if not self._owners.get(owner_id):
            raise Problem(_("You may not give clients to this user."))
        return owner_id


def _owners(actor: User | None, kind: str) -> dict[int, bool]:
    """Whether the actor may give a new client to each active user, read once before parsing so
    that parsing a million rows asks the database nothing."""
    probe = Client(kind=kind)
    return {
        user.pk: field_rules.may_reassign(actor, probe, user, True)
        for user in User.objects.filter(is_active=True)
    }


def _user_names() -> dict[str, int]:
    """Usernames, e-mails and "First Last" / "Last First" of active users, folded."""
    names: dict[str, int] = {}
    rows = User.objects.filter(is_active=True).values_list(
        "pk", "username", "email", "first_name", "last_name"
    )
    for pk, username, email, first, last in rows:
        for name in (username, email, f"{first} {last}", f"{last} {first}"):
            if name.strip():
                names.setdefault(name.strip().lower(), pk)
    return names


def _cells(values_: dict[str, list[Any]], key: str) -> list[Any]:
    return values_.get(key, [])


def _one(values_: dict[str, list[Any]], key: str) -> Any:
    found = values_.get(key)
    return found[0] if found else None


def _run(errors: Errors, key: str, parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except Problem as exc:
        errors.append((key, exc.message))
    except ValidationError as exc:
        errors.append((key, " ".join(exc.messages)))
    return None


# Text fields of a client and their limits.
_TEXT = {
    "last_name": 100,
    "first_name": 100,
    "middle_name": 100,
    "company_name": 300,
    "legal_form": 60,
    "address": 2000,
    "description": 10000,
    "external_id": 100,
    "website": 200,
}
_IDS = {"inn": validate_inn, "kpp": validate_kpp, "ogrn": validate_ogrn}


def client_record(
    row: int, cells: dict[str, list[Any]], ctx: Context, errors: Errors
) -> ClientRecord:
    """A person or a company (with its contact person) from one row."""
    fields: dict[str, Any] = {}
    for key, found in cells.items():
        spec = ctx.scalars.get(key)
        if spec is not None:
            try:
                fields[spec[0]] = spec[1](found[0])
            except Problem as exc:
                errors.append((key, exc.message))
            except ValidationError as exc:
                errors.append((key, " ".join(exc.messages)))
    if (full := fields.pop("full_name", None)) is not None:
        last, first, middle = values.split_name(full)
        for key, part in (("last_name", last), ("first_name", first), ("middle_name", middle)):
            fields.setdefault(key, part[:100])
    if ctx.kind == "company" and "legal_form" not in fields and fields.get("company_name"):
        fields["legal_form"], fields["company_name"] = values.split_company(fields["company_name"])
    record = ClientRecord(row, fields, company=fields.pop("company", ""))
    record.position = fields.pop("position", "")
    if "phone" in cells:
        record.phones = _phones(cells["phone"], errors, "phone")
    if "email" in cells:
        record.emails = _emails(cells["email"], errors, "email")
    if "tags" in cells:
        record.tags = _tags(cells["tags"], errors)
    if ctx.custom_fields:
        _custom(cells, ctx, record, errors)
    if ctx.kind == "company":
        record.contact = _contact(row, cells, errors)
    _required(record, ctx.kind, errors)
    return record


def _scalars(ctx: Context) -> dict[str, tuple[str, Callable[[Any], Any]]]:
    """Column key -> (field, parser) for the single-valued fields of a client."""
    specs: dict[str, tuple[str, Callable[[Any], Any]]] = {
        key: (key, partial(values.text, limit=limit)) for key, limit in _TEXT.items()
    }
    specs.update({key: (key, partial(_checked_id, check=check)) for key, check in _IDS.items()})
    specs["full_name"] = ("full_name", partial(values.text, limit=300))
    specs["company"] = ("company", partial(values.text, limit=300))
    specs["position"] = ("position", partial(values.text, limit=150))
    specs["birthday"] = ("birthday", values.date)
    specs["source"] = ("source", partial(values.choice, options=ctx.sources))
    specs["stage"] = ("stage", partial(values.choice, options=ctx.stages))
    specs["owner"] = ("owner_id", ctx.owner)
    return specs


def _checked_id(value: Any, check: Callable[[str], None]) -> str:
    text = values.text(value, 20).replace(" ", "")
    if text:
        check(text)
    return text


def _split(cells: list[Any]) -> list[str]:
    """Cells that may hold several values separated by commas or semicolons."""
    found = []
    for cell in cells:
        text = values._plain(cell) if not isinstance(cell, str) else cell
        found += [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    return found


def _phones(cells: list[Any], errors: Errors, key: str) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for raw in _split(cells):
        try:
            found.setdefault(normalize_phone(raw), raw[:40])
        except ValidationError as exc:
            errors.append((key, " ".join(exc.messages)))
    if len(found) > MAX_CONTACTS:
        errors.append((key, _("At most %(n)d entries.") % {"n": MAX_CONTACTS}))
    return [(raw, e164) for e164, raw in found.items()]


def _emails(cells: list[Any], errors: Errors, key: str) -> list[str]:
    found: dict[str, None] = {}
    for raw in _split(cells):
        try:
            found[normalize_email(raw)] = None
        except ValidationError as exc:
            errors.append((key, " ".join(exc.messages)))
    if len(found) > MAX_CONTACTS:
        errors.append((key, _("At most %(n)d entries.") % {"n": MAX_CONTACTS}))
    return list(found)


def _tags(cells: list[Any], errors: Errors) -> list[str]:
    names = sorted({" ".join(t.split()) for t in _split(cells)})
    if len(names) > MAX_TAGS or any(len(n) > 60 for n in names):
        errors.append(("tags", _("At most %(n)d tags of up to 60 characters each.") % {"n": 50}))
    return names


def _custom(cells: dict[str, list[Any]], ctx: Context, record: ClientRecord, errors: Errors):
    given = {k.removeprefix("custom."): v[0] for k, v in cells.items() if k.startswith("custom.")}
    if not given and not ctx.custom_required:
        return
    try:
        record.custom = clean_custom(ctx.kind, given, fields=ctx.custom_fields)
    except ValidationError as exc:
        errors += [(k, " ".join(m)) for k, m in exc.message_dict.items()]


def _contact(row: int, cells: dict[str, list[Any]], errors: Errors) -> ClientRecord | None:
    name = _one(cells, "contact_name")
    phones = _phones(_cells(cells, "contact_phone"), errors, "contact_phone")
    emails = _emails(_cells(cells, "contact_email"), errors, "contact_email")
    if name is None and not phones and not emails:
        return None
    last, first, middle = values.split_name(str(name or ""))
    if not (last or first):
        errors.append(("contact_name", _("Enter the contact person's name.")))
    position = _run(
        errors, "contact_position", lambda: values.text(_one(cells, "contact_position"), 150)
    )
    fields = {"last_name": last[:100], "first_name": first[:100], "middle_name": middle[:100]}
    return ClientRecord(row, fields, phones, emails, position=position or "")


def _required(record: ClientRecord, kind: str, errors: Errors) -> None:
    if kind == "person" and not (record.fields.get("last_name") or record.fields.get("first_name")):
        errors.append(("last_name", _("Enter a last name or a first name.")))
    if kind == "company" and not record.fields.get("company_name"):
        errors.append(("company_name", _("Enter the company name.")))


_ROLE_WORDS = (
    (Employment.Role.CHIEF_ACCOUNTANT, ("бухгалтер", "accountant")),
    (Employment.Role.DIRECTOR, ("директор", "director", "ceo", "руководител", "president")),
    (Employment.Role.LAWYER, ("юрист", "lawyer", "юрисконсульт", "counsel")),
    (Employment.Role.PURCHASER, ("закуп", "снабжен", "purchas", "procurement", "buyer")),
)


def role_of(position: str, default: str = Employment.Role.EMPLOYEE) -> str:
    """The role a job title stands for: "Генеральный директор" is a director."""
    lowered = position.lower()
    for role, words in _ROLE_WORDS:
        if any(w in lowered for w in words):
            return role
    return default


# --- interactions and purchases ---------------------------------------------------------------

_INTERACTION_TEXT = {"subject": 300, "summary": 10000, "result": 200}


def interaction_record(
    row: int, cells: dict[str, list[Any]], ctx: Context, errors: Errors
) -> InteractionRecord:
    keys = _client_keys(cells, errors)
    fields: dict[str, Any] = {}
    for key, limit in _INTERACTION_TEXT.items():
        if (value := _one(cells, key)) is not None:
            fields[key] = _run(errors, key, partial(values.text, value, limit))
    parsers: dict[str, Callable[[Any], Any]] = {
        "occurred_at": values.moment,
        "channel": lambda v: values.choice(v, ctx.channels),
        "direction": lambda v: values.choice(v, ctx.directions),
        "duration_seconds": values.seconds,
        "author_id": ctx.user,
    }
    if ctx.entity == Entity.INTERACTIONS:
        parsers["kind"] = lambda v: values.choice(v, ctx.kinds)
    for key, parse in parsers.items():
        column = key.removesuffix("_id")
        if (value := _one(cells, column)) is not None:
            fields[key] = _run(errors, column, partial(parse, value))
    record = InteractionRecord(row, keys, fields)
    if ctx.entity == Entity.PURCHASES:
        _purchase(cells, record, errors)
    if not fields.get("occurred_at") and not any(k == "occurred_at" for k, _m in errors):
        errors.append(("occurred_at", _("Enter the date.")))
    unkind = ctx.entity == Entity.INTERACTIONS and not fields.get("kind")
    if unkind and all(k != "kind" for k, _m in errors):
        errors.append(("kind", _("Enter the kind: call, meeting, e-mail, …")))
    if ctx.entity == Entity.INTERACTIONS and fields.get("kind") == Interaction.Kind.PURCHASE:
        errors.append(("kind", _("Import purchases as purchases: they need amounts.")))
    return record


def _client_keys(cells: dict[str, list[Any]], errors: Errors) -> dict[str, str]:
    keys: dict[str, str] = {}
    if (value := _one(cells, "client_external_id")) is not None:
        found = _run(errors, "client_external_id", lambda: values.text(value, 100))
        keys["external_id"] = found or ""
    if (value := _one(cells, "client_inn")) is not None:
        keys["inn"] = _run(errors, "client_inn", lambda: _checked_id(value, validate_inn)) or ""
    if phones := _phones(_cells(cells, "client_phone"), errors, "client_phone"):
        keys["phone"] = phones[0][1]
    if emails := _emails(_cells(cells, "client_email"), errors, "client_email"):
        keys["email"] = emails[0]
    keys = {k: v for k, v in keys.items() if v}
    if not keys and not errors:
        errors.append(
            ("client_external_id", _("Say whose it is: external id, INN, phone or e-mail."))
        )
    return keys


def _purchase(cells: dict[str, list[Any]], record: InteractionRecord, errors: Errors) -> None:
    fields = record.fields
    fields["kind"] = Interaction.Kind.PURCHASE
    number = _run(errors, "number", lambda: values.text(_one(cells, "number"), 60))
    fields["number"] = number or ""
    if (value := _one(cells, "amount")) is not None:
        fields["amount"] = _run(errors, "amount", lambda: _money(value))
    currency = _run(errors, "currency", lambda: values.text(_one(cells, "currency"), 3)) or "RUB"
    fields["currency"] = currency.upper()
    if fields["currency"] not in CURRENCIES:
        errors.append(("currency", _("Unknown currency %(value)s.") % {"value": currency}))
    if (name := _one(cells, "item")) is not None:
        item: dict[str, Any] = {"name": _run(errors, "item", lambda: values.text(name, 200))}
        for key in ("quantity", "price"):
            if (value := _one(cells, key)) is not None:
                parsed = _run(errors, key, partial(_money, value, places=3))
                item[key] = str(parsed) if parsed is not None else None
        record.item = item
    unpriced = fields.get("amount") is None and record.item is None
    if unpriced and all(k not in ("amount", "item") for k, _m in errors):
        errors.append(("amount", _("Enter the amount or the items.")))


def _money(value: Any, places: int = 2) -> Any:
    result = values.number(value, places=places)
    if result < 0:
        raise Problem(_("Enter a number that is not negative."))
    return result
