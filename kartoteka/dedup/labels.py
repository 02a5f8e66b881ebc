"""The reasons of a match as people read them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

REASONS = {
    "phone": _("same phone"),
    "email": _("same e-mail"),
    "inn": _("same INN"),
    "passport": _("same passport"),
    "passport_close": _("passport one digit apart"),
    "birthday": _("same birthday"),
    "birthday_close": _("birthday one typo apart"),
    "address": _("same address"),
    "address_similar": _("similar address"),
    "name": _("same name"),
    "name_similar": _("similar name (typo)"),
    "names_swapped": _("first and last name swapped"),
    "transliteration": _("name in another script"),
    "middle_name": _("same patronymic"),
    "surname_changed": _("another surname, same first name"),
    "company_name": _("same company name"),
    "company_name_similar": _("similar company name"),
}


def labels(codes: list[str] | tuple[str, ...]) -> list[str]:
    return [str(REASONS.get(code, code)) for code in codes]
