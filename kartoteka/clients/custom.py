"""Custom fields: validating the values a client carries in its `custom` JSON."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kartoteka.clients.models import CustomField

MAX_TEXT = 2000


def definitions(kind: str) -> list[CustomField]:
    return [f for f in CustomField.objects.all() if f.applies(kind)]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean_value(field: CustomField, value: Any) -> Any:
    """The stored form of `value` for `field`, or ValidationError saying why not."""
    kind = CustomField.Type
    if field.type == kind.TEXT:
        text = str(value).strip()
        if len(text) > MAX_TEXT:
            raise ValidationError(_("At most %(n)d characters."), params={"n": MAX_TEXT})
        return text
    if field.type == kind.NUMBER:
        try:
            number = Decimal(str(value).replace(",", ".").replace(" ", ""))
        except InvalidOperation:
            raise ValidationError(_("Enter a number.")) from None
        if not number.is_finite() or not math.isfinite(float(number)):
            raise ValidationError(_("Enter a number."))
        return float(number)
    if field.type == kind.DATE:
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from None
    if field.type == kind.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on", "да"}:
            return True
        if text in {"0", "false", "no", "off", "нет"}:
            return False
        raise ValidationError(_("Enter yes or no."))
    if field.type == kind.CHOICE:
        if str(value) not in field.choices:
            raise ValidationError(
                _("%(value)s is not one of the choices."), params={"value": value}
            )
        return str(value)
    values = value if isinstance(value, list) else [value]
    bad = [str(v) for v in values if str(v) not in field.choices]
    if bad:
        raise ValidationError(
            _("%(value)s is not one of the choices."), params={"value": ", ".join(bad)}
        )
    return [str(v) for v in values]


def clean_custom(
    kind: str,
    values: dict[str, Any],
    partial_of: dict[str, Any] | None = None,
    fields: dict[str, CustomField] | None = None,
) -> dict[str, Any]:
    """Validate `values` against the fields defined for `kind`.

    With `partial_of`, `values` changes that stored dict (a key set to empty clears it).
    Errors are keyed `custom.<key>` so forms and the API can name the field.
    """
    if fields is None:  # callers in a loop pass the definitions they read once
        fields = {f.key: f for f in definitions(kind)}
    errors: dict[str, list[str]] = {}
    result = dict(partial_of or {})
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            errors[f"custom.{key}"] = [_("There is no such custom field.")]
            continue
        if _empty(value):
            result.pop(key, None)
            continue
        try:
            result[key] = clean_value(field, value)
        except ValidationError as exc:
            errors[f"custom.{key}"] = [str(m) for m in exc.messages]
    for key, field in fields.items():
        if field.required and _empty(result.get(key)) and f"custom.{key}" not in errors:
            errors[f"custom.{key}"] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)
    return result
