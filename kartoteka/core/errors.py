"""Errors raised by services; views and the API turn them into messages naming the field."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class StaleVersion(Exception):
    """Someone else saved the record after it was read: the write is refused."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"stale version; current version is {current_version}")
        self.current_version = current_version


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Flatten a ValidationError into {field: [messages]}; "__all__" for the record."""
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errs for m in e.messages]
            for field, errs in exc.error_dict.items()
        }
    return {"__all__": [str(m) for m in exc.messages]}
