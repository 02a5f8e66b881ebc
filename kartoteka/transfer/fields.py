"""What an import can fill, per entity, and the column mapping suggested from a file's headers.

Headers are matched in Russian and English after folding case, "ё", punctuation and a trailing
number ("Телефон 2" is a phone); a saved template maps a header exactly as it was written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kartoteka.clients.custom import definitions
from kartoteka.transfer.models import Entity


@dataclass(frozen=True)
class Field:
    key: str
    label: str | Promise
    synonyms: tuple[str, ...] = ()
    multi: bool = False  # several columns may fill it (phones, e-mails, tags)


# The client a row of interactions or purchases belongs to: found by any of these.
CLIENT_KEYS = (
    Field(
        "client_external_id",
        _("client: external id"),
        ("id клиента", "код клиента", "client id", "external id", "внешний id", "код"),
    ),
    Field("client_inn", _("client: INN"), ("инн", "инн клиента", "inn", "client inn")),
    Field(
        "client_phone",
        _("client: phone"),
        ("телефон", "телефон клиента", "phone", "client phone", "тел"),
    ),
    Field(
        "client_email",
        _("client: e-mail"),
        ("email", "e-mail", "почта", "client email", "e-mail клиента"),
    ),
)

_CONTACTS = (
    Field(
        "phone",
        _("phone"),
        (
            "телефон",
            "тел",
            "phone",
            "мобильный",
            "мобильный телефон",
            "mobile",
            "рабочий телефон",
            "work phone",
            "домашний телефон",
            "home phone",
            "сотовый",
            "telephone",
        ),
        multi=True,
    ),
    Field(
        "email",
        _("e-mail"),
        ("email", "e-mail", "почта", "электронная почта", "эл почта", "mail", "e-mail address"),
        multi=True,
    ),
    Field("address", _("address"), ("адрес", "address", "почтовый адрес", "юридический адрес")),
    Field(
        "description",
        _("description"),
        (
            "комментарий",
            "примечание",
            "описание",
            "заметки",
            "note",
            "notes",
            "comment",
            "description",
        ),
    ),
    Field("source", _("source"), ("источник", "source", "канал привлечения", "lead source")),
    Field("stage", _("stage"), ("стадия", "этап", "статус", "stage", "status")),
    Field("owner", _("owner"), ("ответственный", "менеджер", "owner", "manager", "responsible")),
    Field("tags", _("tags"), ("теги", "метки", "tags", "labels", "тег"), multi=True),
    Field(
        "external_id",
        _("external id"),
        ("внешний id", "id", "код", "external id", "код клиента", "client id", "guid", "uid"),
    ),
)

PERSON_FIELDS = (
    Field("last_name", _("last name"), ("фамилия", "last name", "surname", "family name")),
    Field("first_name", _("first name"), ("имя", "first name", "given name")),
    Field("middle_name", _("middle name"), ("отчество", "middle name", "patronymic")),
    Field(
        "full_name",
        _("full name (split into last, first, middle)"),
        ("фио", "ф и о", "full name", "name", "полное имя", "контакт", "клиент", "имя полностью"),
    ),
    *_CONTACTS,
    Field("inn", _("INN"), ("инн", "inn", "tax id")),
    Field(
        "birthday",
        _("birthday"),
        ("дата рождения", "день рождения", "birthday", "birth date", "date of birth"),
    ),
    Field("company", _("company"), ("компания", "организация", "company", "organization", "org")),
    Field("position", _("position"), ("должность", "position", "job title", "title")),
)

COMPANY_FIELDS = (
    Field(
        "company_name",
        _("company name"),
        (
            "название",
            "наименование",
            "компания",
            "организация",
            "company",
            "company name",
            "name",
            "organization",
            "наименование организации",
            "название компании",
        ),
    ),
    Field("legal_form", _("legal form"), ("опф", "правовая форма", "legal form")),
    Field("inn", _("INN"), ("инн", "inn", "tax id")),
    Field("kpp", _("KPP"), ("кпп", "kpp")),
    Field("ogrn", _("OGRN"), ("огрн", "огрнип", "ogrn")),
    Field("website", _("website"), ("сайт", "website", "web", "url", "веб-сайт")),
    *_CONTACTS,
    Field(
        "contact_name",
        _("contact person: full name"),
        ("контактное лицо", "фио контакта", "contact", "contact person", "contact name"),
    ),
    Field(
        "contact_position",
        _("contact person: position"),
        ("должность", "должность контакта", "position", "contact position", "title"),
    ),
    Field(
        "contact_phone",
        _("contact person: phone"),
        ("телефон контакта", "contact phone", "телефон контактного лица"),
        multi=True,
    ),
    Field(
        "contact_email",
        _("contact person: e-mail"),
        ("e-mail контакта", "email контакта", "contact email", "почта контакта"),
        multi=True,
    ),
)

INTERACTION_FIELDS = (
    *CLIENT_KEYS,
    Field("kind", _("kind"), ("тип", "вид", "type", "kind", "тип взаимодействия")),
    Field(
        "occurred_at",
        _("time"),
        ("дата", "время", "дата и время", "date", "time", "datetime", "when", "когда"),
    ),
    Field("channel", _("channel"), ("канал", "channel")),
    Field("direction", _("direction"), ("направление", "direction")),
    Field("subject", _("subject"), ("тема", "subject", "заголовок", "title")),
    Field(
        "summary",
        _("summary"),
        (
            "содержание",
            "описание",
            "текст",
            "summary",
            "text",
            "description",
            "comment",
            "комментарий",
        ),
    ),
    Field(
        "duration_seconds",
        _("duration, seconds"),
        ("длительность", "длительность сек", "duration", "duration seconds", "seconds"),
    ),
    Field("result", _("result"), ("результат", "итог", "result", "outcome")),
    Field("author", _("author"), ("автор", "сотрудник", "менеджер", "author", "user", "manager")),
)

PURCHASE_FIELDS = (
    *CLIENT_KEYS,
    Field(
        "occurred_at",
        _("date"),
        ("дата", "дата документа", "дата заказа", "date", "order date", "invoice date"),
    ),
    Field(
        "number",
        _("document number"),
        (
            "номер",
            "№",
            "номер документа",
            "номер заказа",
            "номер счета",
            "number",
            "doc number",
            "order number",
            "invoice number",
            "order",
            "invoice",
        ),
    ),
    Field("amount", _("amount"), ("сумма", "сумма документа", "amount", "total", "итого", "sum")),
    Field("currency", _("currency"), ("валюта", "currency")),
    Field(
        "item",
        _("item"),
        ("товар", "номенклатура", "наименование", "товар услуга", "item", "product", "service"),
    ),
    Field("quantity", _("quantity"), ("количество", "кол-во", "qty", "quantity")),
    Field("price", _("price"), ("цена", "price", "unit price")),
    Field("subject", _("comment"), ("комментарий", "тема", "subject", "comment", "note")),
    Field("author", _("author"), ("автор", "менеджер", "author", "manager", "сотрудник")),
)

FIELDS: dict[str, tuple[Field, ...]] = {
    Entity.PERSONS: PERSON_FIELDS,
    Entity.COMPANIES: COMPANY_FIELDS,
    Entity.INTERACTIONS: INTERACTION_FIELDS,
    Entity.PURCHASES: PURCHASE_FIELDS,
}
CLIENT_KIND: dict[str, str] = {Entity.PERSONS: "person", Entity.COMPANIES: "company"}
_FOLD_RE = re.compile(r"[^\w@#№]+")
_NUMBERED_RE = re.compile(r"\s*\d+$")


def fold(header: str) -> str:
    """A header as it is compared: lower case, "е" for "ё", words only, no trailing number."""
    text = _FOLD_RE.sub(" ", header.lower().replace("ё", "е").replace("_", " ")).strip()
    return _NUMBERED_RE.sub("", text) or text


def fields_of(entity: str) -> list[Field]:
    """The entity's fields, with the custom fields of its kind after the built-in ones."""
    found = list(FIELDS[entity])
    if entity in CLIENT_KIND:
        found += [
            Field(f"custom.{f.key}", f.label, (f.label.lower(), f.key))
            for f in definitions(CLIENT_KIND[entity])
        ]
    return found


def suggest(entity: str, headers: list[str], template: dict[str, str] | None = None) -> list[str]:
    """A field key (or "" to skip) for each column; no single-valued field is chosen twice."""
    fields = fields_of(entity)
    by_synonym: dict[str, Field] = {}
    for field in fields:
        for synonym in (field.key.replace("_", " "), *field.synonyms):
            by_synonym.setdefault(fold(synonym), field)
    keys = {f.key for f in fields}
    chosen: list[str] = []
    for header in headers:
        key = (template or {}).get(header, "")
        if key not in keys:
            found = by_synonym.get(fold(header))
            key = found.key if found else ""
        chosen.append(key)
    return _drop_repeats(chosen, {f.key for f in fields if f.multi})


def _drop_repeats(chosen: list[str], multi: set[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for key in chosen:
        if key and key not in multi and key in seen:
            key = ""
        seen.add(key)
        result.append(key)
    return result
