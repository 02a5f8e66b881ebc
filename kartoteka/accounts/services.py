"""Writes for users and API tokens."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from kartoteka.accounts.models import ApiToken, User


def create_admin(username: str, password: str, email: str = "") -> User:
    """Create a superuser, or reset the password of an existing one."""
    validate_password(password)
    with transaction.atomic():
        user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
    return user


def create_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`; the plain key is returned once and never stored."""
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=ApiToken.hash(key), hint=key[: len(ApiToken.PREFIX) + 6]
    )
    return token, key


def user_for_token(key: str) -> User | None:
    """The active user a live token belongs to; marks the token used."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_token(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
