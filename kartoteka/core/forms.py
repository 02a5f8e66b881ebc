"""Form helpers: Bootstrap classes on widgets, and service errors mapped onto form fields."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from kartoteka.core.errors import field_errors


class StyledForm(forms.Form):
    """Adds Bootstrap classes to every widget."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)


def style(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()


def add_service_errors(
    form: forms.BaseForm, exc: ValidationError, prefix_map: dict[str, str] | None = None
) -> None:
    """Attach a service's ValidationError to the form's fields; unknown keys go to the form."""
    for key, messages in field_errors(exc).items():
        name = (prefix_map or {}).get(key, key)
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(
                target, message if target else f"{key}: {message}" if key != "__all__" else message
            )


ID_RE = re.compile(r"[0-9]{1,18}")


def parse_id(value: object) -> int | None:
    """A record id from user input, or None: `"²".isdigit()` is True but int("²") fails."""
    text = str(value or "").strip()
    return int(text) if ID_RE.fullmatch(text) else None


def clean_text(value: str, limit: int) -> str:
    """Free text from a raw POST value: NUL removed (PostgreSQL cannot store it), cut to size."""
    return value.replace("\x00", "")[:limit]


def lookups(data: dict[str, Any], mapping: dict[str, str]) -> Q:
    """AND of `lookup=value` per filled form field; the lookups are ours, never the request's."""
    condition = Q()
    for name, lookup in mapping.items():
        value = data.get(name)
        if value not in (None, ""):
            condition &= Q(**{lookup: value})
    return condition


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """A multiple choice of records whose submitted ids are checked to be ids before the query:
    Django's `pk__in` sends "9"*60 to the database, which answers OverflowError (a 500)."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if not ID_RE.fullmatch(str(pk)):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)  # type: ignore[misc]  # private in the stubs
