"""Normalising and validating what people type: phones, e-mails, Russian company ids."""

from __future__ import annotations

import re
from types import ModuleType

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")
PHONE_CHARS_RE = re.compile(r"^[\d\s()+\-.]+$")


def normalize_phone(raw: str) -> str:
    """E.164 form of a phone typed in any format (default region from settings)."""
    text = raw.strip()
    try:
        number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("%(value)s is not a valid phone number."), params={"value": text}, code="phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """An E.164 number in the international format people read."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_search_digits(query: str) -> str | None:
    """Digits to look for when a search query is a phone in any format, else None."""
    text = query.strip()
    digits = re.sub(r"\D", "", text)
    if len(digits) < 5 or not PHONE_CHARS_RE.match(text):
        return None
    try:
        return normalize_phone(text).lstrip("+")
    except ValidationError:
        return digits


def normalize_email(raw: str) -> str:
    email = raw.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            _("%(value)s is not a valid e-mail address."),
            params={"value": raw.strip()},
            code="email",
        ) from None
    return email


def _stdnum(module: ModuleType, value: str, message: str) -> str:
    try:
        return str(module.validate(value))
    except StdnumError:
        raise ValidationError(message, params={"value": value}, code="invalid") from None


def validate_inn(value: str) -> None:
    _stdnum(stdnum_inn, value, _("%(value)s is not a valid INN (the check digits do not match)."))


def validate_ogrn(value: str) -> None:
    _stdnum(
        stdnum_ogrn, value, _("%(value)s is not a valid OGRN (the check digit does not match).")
    )


def validate_kpp(value: str) -> None:
    if not KPP_RE.match(value):
        raise ValidationError(
            _("%(value)s is not a valid KPP (nine characters)."), params={"value": value}
        )
