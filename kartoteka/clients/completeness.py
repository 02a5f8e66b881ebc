"""Card completeness: the share of weighted fields a card has filled, 0–100."""

from __future__ import annotations

from collections.abc import Iterable

from kartoteka.clients.models import Client, CompletenessWeight

# Used until an administrator sets weights of their own for a kind.
DEFAULT_WEIGHTS: dict[str, dict[str, int]] = {
    Client.Kind.PERSON: {
        "last_name": 15,
        "first_name": 15,
        "middle_name": 5,
        "phone": 20,
        "email": 15,
        "birthday": 10,
        "owner": 10,
        "source": 5,
        "address": 5,
    },
    Client.Kind.COMPANY: {
        "company_name": 15,
        "inn": 15,
        "kpp": 5,
        "ogrn": 5,
        "phone": 15,
        "email": 10,
        "address": 10,
        "owner": 10,
        "source": 5,
        "staff": 10,
    },
}

# Fields that are not plain columns on Client.
DERIVED = {"phone", "email", "tags", "owner", "staff"}


def weights(kind: str) -> dict[str, int]:
    rows = CompletenessWeight.objects.filter(kind=kind).values_list("field", "weight")
    return dict(rows) or DEFAULT_WEIGHTS[kind]


def is_filled(client: Client, field: str, *, tags: Iterable[object] = (), staff: int = 0) -> bool:
    if field == "phone":
        return bool(client.primary_phone)
    if field == "email":
        return bool(client.primary_email)
    if field == "owner":
        return client.owner_id is not None
    if field == "tags":
        return any(True for _ in tags)
    if field == "staff":
        return staff > 0
    if field.startswith("custom."):
        return client.custom.get(field.removeprefix("custom."), "") not in ("", None, [])
    return bool(getattr(client, field, None))


def score(
    client: Client, table: dict[str, int], *, tags: Iterable[object] = (), staff: int = 0
) -> int:
    total = sum(table.values())
    if not total:
        return 0
    tags = list(tags)
    got = sum(w for f, w in table.items() if is_filled(client, f, tags=tags, staff=staff))
    return round(100 * got / total)
