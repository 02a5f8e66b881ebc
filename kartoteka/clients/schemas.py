"""Request and response bodies of the clients API, and the helpers that build them.

Bodies are strict: a key the schema does not name (`owner`, `role`, `is_superuser`,
`deleted_at`, `created_by`, `version` on create, …) is refused with 422 naming the key,
so protected data can never be set by mass assignment.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.utils.translation import gettext as _
from ninja import Field, Header, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ConfigDict, field_validator

from kartoteka.accounts.models import User
from kartoteka.clients import field_rules
from kartoteka.clients.models import Client, ContactKind, Employment
from kartoteka.clients.services import MAX_CONTACTS, MAX_TAGS
from kartoteka.core.pagination import BadCursor

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_TEXT = 20_000
CustomValue = str | int | float | bool | None | list[str]
T = TypeVar("T")


def enum(values: list[str], nullable: bool = True) -> dict[str, Any]:
    """OpenAPI `enum` for a string the service validates (so its message is ours)."""
    return {"enum": [*values, None] if nullable else list(values)}


def field_error(loc: list[str | int], msg: str) -> NinjaValidationError:
    """A 422 naming one field, in the shape every validation error of the API has."""
    return NinjaValidationError([{"loc": loc, "msg": msg, "type": "value_error"}])


# Optimistic locking over HTTP: the version a client read comes back as If-Match or `version`.
ETAG_RE = re.compile(r'^(?:W/)?(?P<q>"?)(?P<version>\d{1,10})(?P=q)$')
IF_MATCH = Header(None, alias="If-Match", description='The version read, as sent in the ETag: "3".')


def expected_version(if_match: str | None, version: int | None) -> int:
    """The version a write names: If-Match or the body's `version` (422 if they differ, 428
    without either)."""
    if if_match is not None:
        match = ETAG_RE.match(if_match.strip())
        if match is None:
            raise field_error(
                ["header", "If-Match"], _('Send the version as in the ETag, e.g. "3".')
            )
        if version is not None and version != int(match.group("version")):
            raise field_error(["body", "version"], _("The version differs from If-Match."))
        return int(match.group("version"))
    if version is None:
        raise HttpError(428, _("Send the version you read: an If-Match header or a version field."))
    return version


def with_cursor(fetch: Callable[[], T]) -> T:
    """Run a keyset read; a cursor that is garbage or forged becomes a 422 naming `cursor`."""
    try:
        return fetch()
    except BadCursor:
        raise field_error(
            ["query", "cursor"], _("This cursor is not valid; start from the first page.")
        ) from None


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    return False


class Clean(Schema):
    """Text with NUL characters is refused: PostgreSQL cannot store it."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if has_nul(value):
            raise ValueError(_("Text cannot contain NUL characters."))
        return value


class Strict(Clean):
    model_config = ConfigDict(extra="forbid")


# --- input ------------------------------------------------------------------------------------


class PhoneIn(Strict):
    number: str = Field(max_length=40)
    kind: str = Field(
        ContactKind.MOBILE, max_length=8, json_schema_extra=enum(ContactKind.values, False)
    )


class EmailIn(Strict):
    email: str = Field(max_length=254)
    kind: str = Field(
        ContactKind.WORK, max_length=8, json_schema_extra=enum(ContactKind.values, False)
    )


class ClientIn(Strict):
    """Fields both kinds share. On PATCH only the keys sent change; null clears a field."""

    address: str | None = Field(None, max_length=MAX_TEXT)
    description: str | None = Field(None, max_length=MAX_TEXT)
    source: str | None = Field(
        None, max_length=20, json_schema_extra=enum(["", *Client.Source.values])
    )
    stage: str | None = Field(None, max_length=10, json_schema_extra=enum(Client.Stage.values))
    external_system: str | None = Field(None, max_length=40)
    external_id: str | None = Field(None, max_length=100)
    owner_id: int | None = Field(
        None, ge=1, le=2**62, description="A user id; null: no owner; left out on create: you."
    )
    phones: list[PhoneIn] | None = Field(
        None, max_length=MAX_CONTACTS, description="Replaces all phones."
    )
    emails: list[EmailIn] | None = Field(
        None, max_length=MAX_CONTACTS, description="Replaces all e-mails."
    )
    tags: list[str] | None = Field(
        None, max_length=MAX_TAGS, description="Tag names; replaces all tags."
    )
    custom: dict[str, CustomValue] | None = Field(
        None,
        max_length=100,
        description="Custom field values by key; on PATCH merged, empty clears a key.",
    )


class PersonIn(ClientIn):
    last_name: str | None = Field(None, max_length=100)
    first_name: str | None = Field(None, max_length=100)
    middle_name: str | None = Field(None, max_length=100)
    inn: str | None = Field(None, max_length=12, description="The individual taxpayer number.")
    birthday: dt.date | None = None


class CompanyIn(ClientIn):
    company_name: str | None = Field(None, max_length=300)
    legal_form: str | None = Field(None, max_length=60)
    inn: str | None = Field(None, max_length=12)
    kpp: str | None = Field(None, max_length=9)
    ogrn: str | None = Field(None, max_length=15)
    company_day: dt.date | None = None
    website: str | None = Field(None, max_length=200)


VERSION_HELP = "The version the change is based on; or send it as the If-Match header."


class PersonPatch(PersonIn):
    version: int | None = Field(None, ge=1, le=2**31, description=VERSION_HELP)


class CompanyPatch(CompanyIn):
    version: int | None = Field(None, ge=1, le=2**31, description=VERSION_HELP)


class StaffIn(Strict):
    person_id: int = Field(ge=1, le=2**62)
    role: str = Field(
        Employment.Role.EMPLOYEE,
        max_length=12,
        json_schema_extra=enum(Employment.Role.values, False),
    )
    position: str = Field("", max_length=150)


# --- output -----------------------------------------------------------------------------------


class UserOut(Schema):
    id: int
    username: str
    name: str


class PhoneOut(Schema):
    kind: str
    e164: str
    raw: str


class EmailOut(Schema):
    kind: str
    email: str


class ClientRef(Schema):
    id: int
    kind: str
    name: str


class LinkOut(Schema):
    id: int
    role: str
    position: str
    is_current: bool
    person: ClientRef
    company: ClientRef


class ClientOut(Schema):
    id: int
    kind: str
    name: str
    version: int
    completeness: int
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    birthday: dt.date | None = None
    company_name: str = ""
    legal_form: str = ""
    inn: str = ""
    kpp: str = ""
    ogrn: str = ""
    company_day: dt.date | None = None
    website: str = ""
    address: str
    description: str
    source: str
    stage: str
    external_system: str
    external_id: str
    phones: list[PhoneOut]
    emails: list[EmailOut]
    tags: list[str]
    custom: dict[str, Any]
    owner: UserOut | None
    last_contact_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    jobs: list[LinkOut] | None = Field(None, description="Persons: where they work.")
    staff: list[LinkOut] | None = Field(None, description="Companies: who works there.")


class ClientPage(Schema):
    items: list[ClientOut]
    next_cursor: str | None


class LinkList(Schema):
    items: list[LinkOut]


class Message(Schema):
    detail: str


class StaleOut(Schema):
    detail: str
    current_version: int


# The refusals every endpoint documents; a write that names a version also 412 and 428.
ERRORS: dict[int, Any] = {403: Message, 404: Message}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 412: StaleOut, 428: Message}


# --- building responses -----------------------------------------------------------------------

KIND_FIELDS = {
    Client.Kind.PERSON: ("last_name", "first_name", "middle_name", "birthday"),
    Client.Kind.COMPANY: (
        "company_name",
        "legal_form",
        "inn",
        "kpp",
        "ogrn",
        "company_day",
        "website",
    ),
}
COMMON = (
    "id",
    "kind",
    "name",
    "version",
    "completeness",
    "address",
    "description",
    "source",
    "stage",
    "external_system",
    "external_id",
    "custom",
    "last_contact_at",
    "created_at",
    "updated_at",
)


def user_out(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.get_full_name() or user.username}


def ref_out(client: Client) -> dict[str, Any]:
    return {"id": client.pk, "kind": client.kind, "name": client.name}


def link_out(job: Employment) -> dict[str, Any]:
    return {
        "id": job.pk,
        "role": job.role,
        "position": job.position,
        "is_current": job.is_current,
        "person": ref_out(job.person),
        "company": ref_out(job.company),
    }


def client_out(
    client: Client,
    links: list[Employment] | None = None,
    hidden: set[str] = frozenset(),  # type: ignore[assignment]
) -> dict[str, Any]:
    """The card as the API shows it, less the fields in `hidden` (the viewer's field rules).

    Phones, e-mails and tags should be prefetched.
    """
    data = {
        name: getattr(client, name) for name in (*COMMON, *KIND_FIELDS[Client.Kind(client.kind)])
    }
    data["phones"] = [{"kind": p.kind, "e164": p.e164, "raw": p.raw} for p in client.phones.all()]
    data["emails"] = [{"kind": e.kind, "email": e.email} for e in client.emails.all()]
    data["tags"] = sorted(t.name for t in client.tags.all())
    data["owner"] = user_out(client.owner) if client.owner_id else None
    if links is not None:
        data["jobs" if client.is_person else "staff"] = [link_out(j) for j in links]
    return field_rules.redact(data, hidden)
