"""The operator's commands: createadmin and token create."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kartoteka.accounts.models import ApiToken, User
from kartoteka.accounts.services import user_for_token


def test_createadmin_non_interactive(db, capsys):
    call_command("createadmin", username="boss", password="a-long-enough-pass-42")
    user = User.objects.get(username="boss")
    assert user.is_superuser and user.check_password("a-long-enough-pass-42")


def test_createadmin_rejects_weak_password(db):
    with pytest.raises(CommandError, match="password"):
        call_command("createadmin", username="boss", password="123")
    assert not User.objects.exists()


def test_token_create_prints_once_and_stores_hash(alice, capsys):
    call_command("token", "create", "--user", "alice", "--json")
    key = json.loads(capsys.readouterr().out)["token"]
    token = ApiToken.objects.get()
    assert key not in (token.key_hash, token.hint) and token.key_hash == ApiToken.hash(key)
    assert user_for_token(key) == alice
    assert user_for_token(key + "x") is None


def test_token_for_unknown_user(db):
    with pytest.raises(CommandError, match="user"):
        call_command("token", "create", "--user", "ghost")


def test_team_and_user_add(db, capsys):
    call_command("createadmin", username="boss", password="a-long-enough-pass-42")
    call_command("team", "add", "Продажи", "--head", "boss")
    call_command(
        "user",
        "add",
        "ivan",
        "--role",
        "manager",
        "--team",
        "Продажи",
        "--password",
        "another-long-pass-7",
    )
    user = User.objects.get(username="ivan")
    assert user.role.code == "manager" and list(user.teams.values_list("name", flat=True)) == [
        "Продажи"
    ]
    assert user.check_password("another-long-pass-7")
    with pytest.raises(CommandError, match="role"):
        call_command("user", "add", "x", "--role", "emperor")
    with pytest.raises(CommandError, match="team"):
        call_command("user", "add", "y", "--role", "analyst", "--team", "Nowhere")
    with pytest.raises(CommandError, match="username"):
        call_command("user", "add", "ivan", "--role", "analyst")
    assert not User.objects.filter(username__in=["x", "y"]).exists()
