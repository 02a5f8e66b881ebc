"""Errors raised by services; views and the API turn them into messages naming the field."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from ninja.errors import ValidationError as NinjaValidationError

T = TypeVar("T")
INDEX = re.compile(r"^\d{1,6}$")


class StaleVersion(Exception):
    """Someone else saved the record after it was read: the write is refused."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"stale version; current version is {current_version}")
        self.current_version = current_version


def check_version(row: Any, expected: int | None) -> None:
    """Refuse a write that names another version than the (locked) row's; None: not named."""
    if expected is not None and row.version != expected:
        raise StaleVersion(row.version)


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Flatten a ValidationError into {field: [messages]}; "__all__" for the record."""
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errs for m in e.messages]
            for field, errs in exc.error_dict.items()
        }
    return {"__all__": [str(m) for m in exc.messages]}


def api_call(write: Callable[[], T], loc: Callable[[str], list[str | int]]) -> T:
    """Run a service for the API; its ValidationError becomes a 422 at `loc(field)` of the body."""
    try:
        return write()
    except ValidationError as exc:
        raise NinjaValidationError(
            [
                {"loc": loc(key), "msg": " ".join(messages), "type": "value_error"}
                for key, messages in field_errors(exc).items()
            ]
        ) from None


def body_loc(renamed: Mapping[str, str] | None = None) -> Callable[[str], list[str | int]]:
    """A service error's key as the API's `loc`, for `api_call`: 'criteria.1.weight' ->
    ['body', 'criteria', 1, 'weight'], '__all__' -> ['body']; a name in `renamed` is the API's
    (a relation's field is its `_id` there)."""
    names = renamed or {}

    def loc(key: str) -> list[str | int]:
        if key == "__all__":
            return ["body"]
        return ["body", *(int(p) if INDEX.match(p) else names.get(p, p) for p in key.split("."))]

    return loc
