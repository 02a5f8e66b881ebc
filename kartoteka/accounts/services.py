"""Writes for users, roles, teams and API tokens; each change is audited."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import ApiToken, FieldRule, Grant, Role, Team, User
from kartoteka.core import audit


def create_admin(username: str, password: str, email: str = "") -> User:
    """Create a superuser, or reset the password of an existing one."""
    validate_password(password)
    with transaction.atomic():
        user, _created = User.objects.get_or_create(username=username, defaults={"email": email})
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
    return user


def add_user(
    actor: User | None,
    username: str,
    role: Role,
    password: str | None = None,
    *,
    teams: Iterable[Team] = (),
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """A new user with a role; without a password the user cannot log in until one is set."""
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": [_("A user with that name already exists.")]})
    user = User(
        username=username, email=email, first_name=first_name, last_name=last_name, role=role
    )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        user.save()
        user.teams.set(teams)
        audit.record(
            actor,
            "user_change",
            user,
            change="created",
            role=role.code,
            teams=[t.name for t in teams],
        )
    return user


def update_user(
    actor: User | None, user: User, *, role: Role | None, teams: Iterable[Team], is_active: bool
) -> None:
    teams = list(teams)
    before = {
        "role": user.role.code if user.role else None,
        "active": user.is_active,
        "teams": sorted(user.teams.values_list("name", flat=True)),
    }
    after = {
        "role": role.code if role else None,
        "active": is_active,
        "teams": sorted(t.name for t in teams),
    }
    if before == after:
        return
    with transaction.atomic():
        user.role, user.is_active = role, is_active
        user.save(update_fields=["role", "is_active"])
        user.teams.set(teams)
        audit.record(actor, "user_change", user, before=before, after=after)


def save_team(
    actor: User | None, team: Team, name: str, head: User | None, members: Iterable[User]
) -> Team:
    members = list(members)
    with transaction.atomic():
        created = team.pk is None
        team.name, team.head = name, head
        team.save()
        team.members.set(members)
        audit.record(
            actor,
            "team_change",
            team,
            change="created" if created else "changed",
            name=name,
            head=head.username if head else None,
            members=sorted(m.username for m in members),
        )
    return team


def save_role_matrix(
    actor: User | None,
    role: Role,
    grants: dict[tuple[str, str], int],
    fields: dict[str, str],
) -> dict[str, list[object]]:
    """Replace a role's matrix and field rules; returns and audits what changed."""
    with transaction.atomic():
        old = {(g.kind, g.action): g.scope for g in role.grants.all()}
        old_fields = dict(role.field_rules.values_list("field", "access"))
        changes: dict[str, list[object]] = {
            f"{kind}.{action}": [old.get((kind, action), 0), scope]
            for (kind, action), scope in grants.items()
            if old.get((kind, action), 0) != scope
        }
        changes.update(
            {
                f"field.{f}": [old_fields.get(f, ""), a]
                for f, a in fields.items()
                if old_fields.get(f, "") != a
            }
        )
        for (kind, action), scope in grants.items():
            Grant.objects.update_or_create(
                role=role, kind=kind, action=action, defaults={"scope": scope}
            )
        role.field_rules.exclude(field__in=[f for f, a in fields.items() if a]).delete()
        for field, access in fields.items():
            if access:
                FieldRule.objects.update_or_create(
                    role=role, field=field, defaults={"access": access}
                )
        if changes:
            audit.record(actor, "role_change", role, code=role.code, changes=changes)
    return changes


def create_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`; the plain key is returned once and never stored."""
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=ApiToken.hash(key), hint=key[: len(ApiToken.PREFIX) + 6]
    )
    audit.record(user, "token", token, change="created", name=name)
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


def revoke_token(actor: User | None, token: ApiToken) -> None:
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    ):
        audit.record(actor, "token", token, change="revoked")
