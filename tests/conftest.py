"""Named users as the product knows them: an owner, a colleague, an outsider, an administrator."""

from __future__ import annotations

import pytest

from kartoteka.accounts.models import User


@pytest.fixture
def admin(db) -> User:
    return User.objects.create_superuser("admin", "admin@example.com", "correct-horse-battery", first_name="Ada")


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", "alice@example.com", "correct-horse-battery", first_name="Alice")


@pytest.fixture
def bob(db) -> User:
    return User.objects.create_user("bob", "bob@example.com", "correct-horse-battery", first_name="Bob")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client
