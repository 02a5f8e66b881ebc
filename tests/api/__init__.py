"""Helpers for the API tests: a token-holding client, sample records, a database snapshot."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client as HttpClient

from kartoteka.accounts.models import User
from kartoteka.accounts.services import create_token
from kartoteka.activities.models import Interaction
from kartoteka.clients import services
from kartoteka.clients.models import Client, ClientEvent, Email, Employment, Phone, Tag

BASE = "/api/v1"


class Api:
    """Calls /api/v1 as `user` with a bearer token; bodies are JSON."""

    def __init__(self, user: User | None) -> None:
        headers = {}
        if user is not None:
            _token, key = create_token(user)
            headers["Authorization"] = f"Bearer {key}"
        self.http = HttpClient(headers=headers)

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.http.get(BASE + path, params or {}, headers=headers)

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.send("post", path, body, headers)

    def patch(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.send("patch", path, body, headers)

    def delete(self, path: str, **headers: str) -> Any:
        return self.http.delete(BASE + path, headers=headers)

    def send(
        self, method: str, path: str, body: Any, headers: dict[str, str], raw: bool = False
    ) -> Any:
        data = body if raw else json.dumps(body if body is not None else {})
        return getattr(self.http, method)(
            BASE + path, data, content_type="application/json", headers=headers
        )


def _owned(fields: dict[str, Any]) -> dict[str, Any]:
    """Sample records belong to admin, who acts in most tests, unless an owner is given."""
    if "owner" not in fields:
        fields["owner"] = User.objects.filter(username="admin").first()
    return fields


def person(actor: User | None = None, phones: tuple[str, ...] = (), **fields: Any) -> Client:
    fields = _owned(fields)
    fields.setdefault("last_name", "Иванов")
    return services.create_client(
        actor, Client.Kind.PERSON, fields, phones=[services.PhoneIn(p) for p in phones]
    )


def company(actor: User | None = None, **fields: Any) -> Client:
    fields = _owned(fields)
    fields.setdefault("company_name", "Ромашка")
    return services.create_client(actor, Client.Kind.COMPANY, fields)


def snapshot() -> list[Any]:
    """Every row the API could write, to assert a refused request changed nothing."""
    tables = [
        Client.all_objects.order_by("pk").values(),
        Phone.objects.order_by("pk").values(),
        Email.objects.order_by("pk").values(),
        Tag.objects.order_by("pk").values(),
        Client.tags.through.objects.order_by("pk").values(),
        Employment.objects.order_by("pk").values(),
        ClientEvent.objects.order_by("pk").values(),
        Interaction.all_objects.order_by("pk").values(),
        User.objects.order_by("pk").values(
            "pk", "username", "is_staff", "is_superuser", "is_active"
        ),
    ]
    return [list(t) for t in tables]


def locs(response: Any) -> list[list[Any]]:
    """The `loc` of every error in a 422 answer."""
    assert response.status_code == 422, response.content
    return [e["loc"] for e in response.json()["detail"]]
