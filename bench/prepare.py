"""Make a bench database ready: migrate, load the demo data once, add the heavy card."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.db import connection

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.clients import demo
from kartoteka.clients.demo_rows import Summary
from kartoteka.clients.models import Client

HEAVY_INTERACTIONS = 1000
ADMIN = "bench-admin"


class SizeMismatch(Exception):
    """The database holds another number of clients: it must be reloaded."""


@dataclass
class State:
    vendor: str
    clients: int
    interactions: int
    heavy_id: int
    admin: User
    manager: User
    load: dict[str, Any] = field(default_factory=dict)
    reused: bool = False


def _progress(done: Summary) -> None:
    sys.stderr.write(f"  loaded {done.clients} clients, {done.rows} rows, {done.seconds:.0f} s\n")


def load_if_needed(clients: int, per_client: float, load_file: Path) -> tuple[dict[str, Any], bool]:
    count = Client.all_objects.count()
    if count == clients and load_file.exists():
        return json.loads(load_file.read_text()), True
    if count == clients:
        raise SizeMismatch(f"no record of how the {count} clients were loaded ({load_file.name})")
    if count:
        raise SizeMismatch(f"{count} clients in the database, {clients} wanted")
    sys.stderr.write(f"Loading {clients} clients into {connection.vendor}…\n")
    figures = demo.load(clients, seed=1, interactions_per_client=per_client, progress=_progress)
    result = figures.as_dict()
    load_file.write_text(json.dumps(result))
    return result, False


def heavy_client(count: int = HEAVY_INTERACTIONS) -> int:
    """A client with `count` interactions or more; the first person with an owner gets them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_id FROM activities_interaction GROUP BY client_id "
            "HAVING COUNT(*) >= %s ORDER BY client_id LIMIT 1",
            [count],
        )
        row = cursor.fetchone()
    if row:
        return int(row[0])
    person = Client.objects.filter(kind=Client.Kind.PERSON, owner__isnull=False).order_by("id")
    client_id = person.values_list("id", flat=True)[0]
    demo.add_interactions(client_id, count, seed=99)
    return int(client_id)


def _with_role(user: User, code: str) -> User:
    """Give the user a role of the role matrix, where the installation has one."""
    field_names = {f.name for f in User._meta.get_fields()}
    if "role" in field_names and getattr(user, "role_id", None) is None:
        role_model = User._meta.get_field("role").related_model
        role = role_model.objects.filter(code=code).first()  # type: ignore[union-attr]
        if role is not None:
            user.role = role  # type: ignore[attr-defined]
            user.save(update_fields=["role"])
    return user


def users() -> tuple[User, User]:
    admin, _created = User.objects.get_or_create(
        username=ADMIN, defaults={"is_staff": True, "is_superuser": True, "first_name": "Bench"}
    )
    if not admin.is_superuser:
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])
    manager = User.objects.get(username="manager01")
    return _with_role(admin, "admin"), _with_role(manager, "manager")


def prepare(clients: int, per_client: float, load_file: Path) -> State:
    call_command("migrate", interactive=False, verbosity=0)
    load, reused = load_if_needed(clients, per_client, load_file)
    heavy = heavy_client()
    admin, manager = users()
    return State(
        vendor=connection.vendor,
        clients=Client.all_objects.count(),
        interactions=Interaction.all_objects.count(),
        heavy_id=heavy,
        admin=admin,
        manager=manager,
        load=load,
        reused=reused,
    )
