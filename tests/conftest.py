"""Named users as the product knows them.

alice and bob are sales managers in the Sales team, helen heads Sales, carol is a
manager in another team, and admin administers Kartoteka.
"""

from __future__ import annotations

import pytest

from kartoteka.accounts.models import Role, Team, User

PASSWORD = "correct-horse-battery"


def ensure_seeded() -> None:
    """Put back the rows migrations seed (roles, the first sales pipeline) when a transactional
    test that ran before in this process flushed them away."""
    from django.apps import apps

    from kartoteka.accounts.models import FieldRule, Grant
    from kartoteka.accounts.roles import seed_roles
    from kartoteka.sales.models import Pipeline

    if not Role.objects.exists():
        seed_roles(Role, Grant, FieldRule)
    if not Pipeline.objects.exists():
        from importlib import import_module

        import_module("kartoteka.sales.migrations.0002_first_pipeline").seed(apps, None)


def make_user(username: str, role: str | None = "manager", **extra: object) -> User:
    ensure_seeded()
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD, **extra)
    if role:
        user.role = Role.objects.get(code=role)
        user.save(update_fields=["role"])
    return user


@pytest.fixture
def admin(db) -> User:
    ensure_seeded()
    return User.objects.create_superuser("admin", "admin@example.com", PASSWORD, first_name="Ada")


@pytest.fixture
def sales(db) -> Team:
    return Team.objects.create(name="Sales")


@pytest.fixture
def alice(sales) -> User:
    user = make_user("alice", first_name="Alice")
    sales.members.add(user)
    return user


@pytest.fixture
def bob(sales) -> User:
    user = make_user("bob", first_name="Bob")
    sales.members.add(user)
    return user


@pytest.fixture
def helen(sales) -> User:
    user = make_user("helen", role="head", first_name="Helen")
    sales.head = user
    sales.save()
    return user


@pytest.fixture
def carol(db) -> User:
    user = make_user("carol", first_name="Carol")
    Team.objects.create(name="Retail").members.add(user)
    return user


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def helen_client(client, helen):
    client.force_login(helen)
    return client


@pytest.fixture(autouse=True)
def english(settings):
    """Tests read messages in English unless they ask for another language."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
