"""Every write of the operator list and the call-back default (administrators): the settings page
and the API call these. An operator who has calls or status history is never deleted: removing
one takes it off the phones and stamps `deleted_at`, so its calls and KPIs keep their operator."""

from __future__ import annotations

import re
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.callcenter import statuses
from kartoteka.callcenter.models import Call, CallbackSettings, Operator, OperatorStatusChange
from kartoteka.core import audit, permissions
from kartoteka.core.errors import check_version
from kartoteka.core.permissions import Action

EXTENSION_RE = re.compile(r"[0-9A-Za-z*#+/_.@:-]{1,40}")
MAX_ACW = 3600
FIELDS = ("user", "extension", "acw_seconds")
Removal = Literal["deleted", "removed"]


def _validate(fields: dict[str, Any], keep: Operator | None = None) -> dict[str, Any]:
    """Clean `fields` or raise a ValidationError naming each bad field."""
    errors: dict[str, list[str]] = {
        name: [_("This field cannot be set.")] for name in fields if name not in FIELDS
    }
    clean: dict[str, Any] = {}
    if "extension" in fields:
        extension = str(fields["extension"] or "").strip()
        if not EXTENSION_RE.fullmatch(extension):
            errors["extension"] = [
                _("Enter up to 40 digits, letters or * # + / _ . @ : - (no spaces).")
            ]
        else:
            taken = Operator.objects.filter(extension=extension).select_related("user")
            other = taken.exclude(pk=keep.pk).first() if keep else taken.first()
            if other is not None:
                errors["extension"] = [
                    _("Extension %(ext)s is already %(user)s's.")
                    % {"ext": extension, "user": other.user}
                ]
            clean["extension"] = extension
    if "acw_seconds" in fields:
        acw = fields["acw_seconds"]
        if not isinstance(acw, int) or isinstance(acw, bool) or not 0 <= acw <= MAX_ACW:
            errors["acw_seconds"] = [_("Enter whole seconds from 0 to %(n)d.") % {"n": MAX_ACW}]
        clean["acw_seconds"] = acw
    if "user" in fields:
        user = fields["user"]
        if not isinstance(user, User) or not user.is_active:
            errors["user"] = [_("Choose an active user.")]
        else:
            # Adding brings a removed operator back; an edit cannot take over its user.
            rows = Operator.objects if keep is None else Operator.all_objects.exclude(pk=keep.pk)
            other = rows.filter(user=user).first()
            if other is not None:
                errors["user"] = [
                    _("This user is already an operator.")
                    if other.deleted_at is None
                    else _("This user's operator was removed: add the user again to restore it.")
                ]
        clean["user"] = user
    if errors:
        raise ValidationError(errors)
    return clean


def _taken(exc: IntegrityError) -> ValidationError:
    """A concurrent add or edit took the extension or the user between the check and the write."""
    field = "user" if "user" in str(exc) else "extension"
    return ValidationError({field: [_("Someone else has just taken this; choose another.")]})


def add_operator(actor: User, fields: dict[str, Any]) -> Operator:
    """A new operator (offline). A user whose operator was removed gets that row back, with its
    history, at the new extension."""
    permissions.require(actor, Action.CONFIGURE)
    fields = {"acw_seconds": 60, **fields}
    missing = [name for name in ("user", "extension") if not fields.get(name)]
    if missing:
        raise ValidationError({name: [_("This field is required.")] for name in missing})
    clean = _validate(fields)
    now = timezone.now()
    try:
        with transaction.atomic():
            row = Operator.all_objects.select_for_update().filter(user=clean["user"]).first()
            if row is None:
                row = Operator(since=now, status=Operator.Status.OFFLINE)
            else:  # removed before: back on the list, offline
                row.deleted_at, row.version = None, row.version + 1
            for name, value in clean.items():
                setattr(row, name, value)
            row.save()
            audit.record(actor, "configure", kind="operator", target_id=row.pk, added=row.extension)
    except IntegrityError as exc:
        raise _taken(exc) from None
    return row


def update_operator(
    actor: User, operator: Operator, expected_version: int | None, fields: dict[str, Any]
) -> Operator:
    """Change an operator's extension, after-call-work limit or user; refused if stale."""
    permissions.require(actor, Action.CONFIGURE)
    clean = _validate(fields, keep=operator)
    try:
        with transaction.atomic():
            row = statuses.locked(operator)
            check_version(row, expected_version)
            changes = {
                name: [str(getattr(row, name)), str(value)]
                for name, value in clean.items()
                if getattr(row, name) != value
            }
            if "user" in changes and row.status in (
                Operator.Status.RINGING,
                Operator.Status.ON_CALL,
            ):
                raise ValidationError({"user": [_("Finish the call first.")]})
            for name, value in clean.items():
                setattr(row, name, value)
            row.version += 1
            row.save()
            audit.record(actor, "configure", kind="operator", target_id=row.pk, changes=changes)
    except IntegrityError as exc:
        raise _taken(exc) from None
    return row


def has_history(operator: Operator) -> bool:
    return (
        Call.objects.filter(operator=operator).exists()
        or OperatorStatusChange.objects.filter(operator=operator).exists()
    )


def remove_operator(actor: User, operator: Operator) -> Removal:
    """Delete an operator without history; take one with history off the phones (offline,
    `deleted_at` stamped) so its calls and status rows stay. Not during a call."""
    permissions.require(actor, Action.CONFIGURE)
    with transaction.atomic():
        row = statuses.locked(operator)
        if row.status in (Operator.Status.RINGING, Operator.Status.ON_CALL):
            raise ValidationError({"__all__": [_("The operator is on a call: finish it first.")]})
        if not has_history(row):
            pk, label = row.pk, str(row)
            row.delete()
            audit.record(actor, "configure", kind="operator", target_id=pk, removed=label)
            return "deleted"
        now = timezone.now()
        reason = _("removed from the operators")
        statuses.transition(
            row,
            Operator.Status.OFFLINE,
            now,
            statuses.Source.SUPERVISOR,
            actor=actor,
            reason=reason,
        )
        row.deleted_at, row.version = now, row.version + 1
        row.save(update_fields=["deleted_at", "version"])
        audit.record(actor, "configure", kind="operator", target_id=row.pk, removed=str(row))
    return "removed"


def save_callback_default(
    actor: User, user: User | None, expected_version: int | None
) -> CallbackSettings:
    """Who calls back lost calls that nobody else owns (None: the heads, else administrators)."""
    permissions.require(actor, Action.CONFIGURE)
    if user is not None and not user.is_active:
        raise ValidationError({"default_user": [_("Choose an active user.")]})
    with transaction.atomic():
        CallbackSettings.current()
        row = CallbackSettings.objects.select_for_update().get(pk=1)
        check_version(row, expected_version)
        row.default_user, row.version = user, row.version + 1
        row.save()
        audit.record(
            actor, "configure", kind="callbacksettings", target_id=1, user=user.pk if user else None
        )
    return row
