"""Named users as the product knows them.

alice and bob are sales managers in the Sales team, helen heads Sales, carol is a
manager in another team, and admin administers Kartoteka.
"""

from __future__ import annotations

import pytest

from kartoteka.accounts.models import Role, Team, User

PASSWORD = "correct-horse-battery"


def make_user(username: str, role: str | None = "manager", **extra: object) -> User:
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD, **extra)
    if role:
        user.role = Role.objects.get(code=role)
        user.save(update_fields=["role"])
    return user


@pytest.fixture
def admin(db) -> User:
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
