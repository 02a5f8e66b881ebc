"""Writes of segments: each owns its transaction and audit row; nothing else writes them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients.queries import visible_clients
from kartoteka.core import audit, permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.forms import clean_text
from kartoteka.core.permissions import Action, Denied
from kartoteka.segments.models import Segment, SegmentMember
from kartoteka.segments.queries import may_change
from kartoteka.segments.rules import compile_rules

MAX_MEMBERS_PER_CALL = 1000


def _check_rules(kind: str, rules: Any, actor: User) -> dict[str, Any]:
    if kind == Segment.Kind.STATIC:
        if rules not in (None, {}):
            raise ValidationError({"rules": [_("A static list has no rules.")]})
        return {}
    compile_rules(rules, actor)  # raises ValidationError naming the condition
    assert isinstance(rules, dict)
    return rules


def _name(name: str) -> str:
    name = clean_text(name or "", 100).strip()
    if not name:
        raise ValidationError({"name": [_("This field is required.")]})
    return name


def create(actor: User, *, name: str, kind: str, rules: Any, shared: bool = False) -> Segment:
    if permissions.scope_of(actor, "client", Action.VIEW) is permissions.Scope.NONE:
        raise Denied(Action.CREATE)
    if kind not in Segment.Kind.values:
        raise ValidationError({"kind": [_("Choose dynamic or static.")]})
    clean = _check_rules(kind, rules, actor)
    with transaction.atomic():
        segment = Segment.objects.create(
            name=_name(name), kind=kind, rules=clean, shared=bool(shared), created_by=actor
        )
        audit.record(actor, "create", segment, name=segment.name, segment_kind=kind)
    return segment


def update(
    actor: User,
    segment: Segment,
    expected_version: int,
    *,
    name: str | None = None,
    rules: Any = None,
    shared: bool | None = None,
) -> Segment:
    """Change a segment read at `expected_version` (StaleVersion if saved since)."""
    if not may_change(actor, segment):
        raise Denied(Action.EDIT)
    clean = _check_rules(segment.kind, rules, actor) if rules is not None else None
    new_name = _name(name) if name is not None else None
    with transaction.atomic():
        locked = Segment.objects.select_for_update().get(pk=segment.pk)
        if locked.version != expected_version:
            raise StaleVersion(locked.version)
        changes: dict[str, Any] = {}
        if new_name is not None and new_name != locked.name:
            changes["name"], locked.name = [locked.name, new_name], new_name
        if clean is not None and clean != locked.rules:
            changes["rules"], locked.rules = [locked.rules, clean], clean
        if shared is not None and shared != locked.shared:
            changes["shared"], locked.shared = [locked.shared, shared], shared
        locked.version += 1
        locked.save(update_fields=["name", "rules", "shared", "version"])
        audit.record(actor, "update", locked, **changes)
    return locked


def delete(actor: User, segment: Segment) -> None:
    if not may_change(actor, segment):
        raise Denied(Action.DELETE)
    with transaction.atomic():
        audit.record(actor, "delete", segment, name=segment.name)
        segment.delete()


def change_members(
    actor: User, segment: Segment, add: list[int], remove: list[int]
) -> dict[str, int]:
    """Add clients to / remove them from a static list; every id must be a visible client."""
    if not may_change(actor, segment):
        raise Denied(Action.EDIT)
    if segment.kind != Segment.Kind.STATIC:
        raise ValidationError({"kind": [_("Only a static list has members to change.")]})
    ids = set(add) | set(remove)
    if len(ids) > MAX_MEMBERS_PER_CALL:
        raise ValidationError({"add": [_("At most 1000 clients at a time.")]})
    visible = set(visible_clients(actor).filter(pk__in=ids).values_list("pk", flat=True))
    for key, group in (("add", add), ("remove", remove)):
        missing = sorted(set(group) - visible)
        if missing:
            raise ValidationError(
                {key: [_("No such client: %(ids)s.") % {"ids": ", ".join(map(str, missing[:10]))}]}
            )
    with transaction.atomic():
        SegmentMember.objects.bulk_create(
            [SegmentMember(segment=segment, client_id=pk) for pk in sorted(set(add))],
            ignore_conflicts=True,
        )
        removed, _by_model = SegmentMember.objects.filter(
            segment=segment, client_id__in=set(remove)
        ).delete()
        audit.record(actor, "update", segment, added=sorted(set(add)), removed=sorted(set(remove)))
    return {"added": len(set(add)), "removed": removed}
