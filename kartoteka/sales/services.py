"""Every write to sales: pipelines from blueprints, deals created, changed, moved, trashed.

Views, the API and jobs call these; each owns its transaction, its history rows and its events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.activities.services import CURRENCIES
from kartoteka.clients.models import Client
from kartoteka.clients.search import fold
from kartoteka.core import audit, permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.permissions import Action, Denied, Scope
from kartoteka.sales import events
from kartoteka.sales.blueprints import BLUEPRINTS, LOSS_REASONS
from kartoteka.sales.models import Deal, LossReason, Pipeline, Stage, StageChange

# Fields a deal's form and the API may set (the stage moves through move_deal only).
FIELDS = (
    "title",
    "client",
    "owner",
    "amount",
    "currency",
    "expected_close",
    "source",
    "next_step",
)
# What a stage may require before a deal enters it.
REQUIRABLE = ("amount", "expected_close", "next_step", "source", "contacts", "loss_reason")


def install_blueprint(actor: User | None, blueprint: str, name: str = "") -> Pipeline:
    """A pipeline with the blueprint's stages (administrators; `None` is the system)."""
    if actor is not None:
        permissions.require(actor, Action.CONFIGURE)
    if blueprint not in BLUEPRINTS:
        raise ValidationError({"blueprint": [_("Choose a ready-made pipeline.")]})
    plan: dict[str, Any] = BLUEPRINTS[blueprint]
    name = " ".join((name or str(plan["name"])).split())[:100]
    if Pipeline.objects.filter(name=name).exists():
        raise ValidationError({"name": [_("A pipeline with this name exists.")]})
    with transaction.atomic():
        pipeline = Pipeline.objects.create(name=name, position=Pipeline.objects.count())
        Stage.objects.bulk_create(
            Stage(
                pipeline=pipeline,
                name=str(title),
                position=i,
                probability=probability,
                kind=kind,
                required_fields=required,
            )
            for i, (title, probability, kind, required) in enumerate(plan["stages"])
        )
        LossReason.objects.bulk_create(
            [LossReason(name=str(r), position=i) for i, r in enumerate(LOSS_REASONS)],
            ignore_conflicts=True,
        )
    return pipeline


def _clean(deal: Deal, fields: dict[str, Any], errors: dict[str, list[str]]) -> None:
    for name, value in fields.items():
        if name not in FIELDS:
            errors[name] = [_("This field cannot be set.")]
        else:
            setattr(deal, name, "" if value is None and name in ("next_step", "source") else value)
    deal.title = " ".join((deal.title or "").split())
    deal.search_title = fold(deal.title)
    deal.currency = (deal.currency or "").upper()
    if deal.currency not in CURRENCIES:
        errors.setdefault("currency", []).append(_("Unknown currency."))
    if deal.amount is not None and (not Decimal(deal.amount).is_finite() or deal.amount < 0):
        errors.setdefault("amount", []).append(_("Enter an amount that is not negative."))
    try:
        deal.full_clean(exclude=["client", "pipeline", "stage", "owner", "loss_reason"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)


def _check_client(actor: User | None, client: Client | None, errors: dict[str, list[str]]) -> None:
    hidden = (
        actor is not None and client is not None and not permissions.can(actor, Action.VIEW, client)
    )
    if client is None or hidden:
        errors.setdefault("client", []).append(_("Choose a client you may see."))


def _may_give(actor: User | None, deal: Deal | type[Deal], owner: User | None) -> bool:
    """Giving a deal to someone else (or to nobody) needs the right to reassign deals; with a
    team-wide right, only to someone in the actor's teams."""
    if actor is None or owner == actor:
        return True
    if not permissions.can(actor, Action.REASSIGN, deal):
        return False
    team_only = permissions.scope_of(actor, "deal", Action.REASSIGN) is Scope.TEAM
    return not team_only or owner is None or owner.pk in permissions.rights(actor).team_ids


def create_deal(
    actor: User | None, fields: dict[str, Any], *, contacts: Sequence[Client] = ()
) -> Deal:
    """A new deal in `fields["pipeline"]` (or the first pipeline), at its first open stage."""
    if actor is not None and not permissions.can(actor, Action.CREATE, Deal):
        raise Denied(Action.CREATE)
    fields = dict(fields)
    pipeline = fields.pop("pipeline", None) or Pipeline.objects.filter(is_active=True).first()
    stage = fields.pop("stage", None)
    errors: dict[str, list[str]] = {}
    if pipeline is None:
        raise ValidationError({"pipeline": [_("Create a pipeline first.")]})
    if stage is None:
        stage = pipeline.stages.filter(kind=Stage.Kind.OPEN).first()
    if stage is None or stage.pipeline_id != pipeline.pk or stage.kind != Stage.Kind.OPEN:
        errors["stage"] = [_("Choose an open stage of the pipeline.")]
    fields.setdefault("owner", actor)
    deal = Deal(pipeline=pipeline, stage=stage, stage_entered_at=timezone.now())
    _clean(deal, fields, errors)
    _check_client(actor, fields.get("client"), errors)
    contacts = _contacts(actor, contacts, errors)
    if stage is not None and "stage" not in errors:
        _required(deal, stage, contacts, errors)
    if errors:
        raise ValidationError(errors)
    if not _may_give(actor, Deal, fields.get("owner")):
        raise ValidationError({"owner": [_("You may not give deals to others.")]})
    with transaction.atomic():
        deal.save()
        deal.contacts.set(contacts)
        StageChange.objects.create(deal=deal, to_stage=deal.stage, actor=actor)
        events.emit(events.DealCreated(deal.pk, getattr(actor, "pk", None)))
    return deal


def _contacts(
    actor: User | None, contacts: Sequence[Client], errors: dict[str, list[str]]
) -> list[Client]:
    found = list(contacts)
    if any(c.kind != Client.Kind.PERSON for c in found):
        errors["contacts"] = [_("Contact persons must be persons.")]
    elif actor is not None and any(not permissions.can(actor, Action.VIEW, c) for c in found):
        errors["contacts"] = [_("Choose contact persons you may see.")]
    return found


def _required(
    deal: Deal, stage: Stage, contacts: Iterable[Client], errors: dict[str, list[str]]
) -> None:
    """The fields `stage` requires, each named when it is missing."""
    for name in stage.required_fields:
        value = list(contacts) if name == "contacts" else getattr(deal, name, None)
        missing = value in (None, "", [])
        if missing and name in REQUIRABLE:
            errors.setdefault(name, []).append(
                _("The stage “%(stage)s” needs this field.") % {"stage": stage.name}
            )


def update_deal(
    actor: User | None,
    deal: Deal,
    expected_version: int,
    fields: dict[str, Any],
    *,
    contacts: Sequence[Client] | None = None,
) -> Deal:
    """Change a deal read at `expected_version`; StaleVersion if someone saved it since."""
    with transaction.atomic():
        # 404, not a crash, when it went to the trash after the page read it.
        locked = get_object_or_404(Deal.objects.select_for_update(), pk=deal.pk)
        if actor is not None and not permissions.can(actor, Action.EDIT, locked):
            raise Denied(Action.EDIT)
        if locked.version != expected_version:
            raise StaleVersion(locked.version)
        errors: dict[str, list[str]] = {}
        owner_before = locked.owner_id
        new_owner = fields.get("owner")
        changes_owner = "owner" in fields and getattr(new_owner, "pk", None) != owner_before
        if changes_owner and not _may_give(actor, locked, new_owner):
            errors["owner"] = [_("You may not give deals to others.")]
        client_before = locked.client_id
        _clean(locked, fields, errors)
        if "client" in fields and getattr(fields["client"], "pk", None) != client_before:
            _check_client(actor, fields["client"], errors)
        chosen = _contacts(actor, contacts, errors) if contacts is not None else None
        _required(locked, locked.stage, locked.contacts.all() if chosen is None else chosen, errors)
        if errors:
            raise ValidationError(errors)
        if locked.owner_id != owner_before:
            audit.record(actor, "reassign", locked, owner=str(new_owner or ""))
        locked.version += 1
        locked.save()
        if chosen is not None:
            locked.contacts.set(chosen)
    return locked


def move_deal(
    actor: User | None,
    deal: Deal,
    stage: Stage,
    expected_version: int,
    fields: dict[str, Any] | None = None,
    *,
    contacts: Sequence[Client] | None = None,
) -> Deal:
    """Move a deal to `stage`, filling the fields the stage requires from `fields` (and the
    contact persons from `contacts`, which replace the deal's when given) in one transaction.

    ValidationError names each missing field (the kanban asks for them and tries again);
    StaleVersion when someone moved or changed the deal since it was read.
    """
    fields = dict(fields or {})
    with transaction.atomic():
        locked = get_object_or_404(
            Deal.objects.select_for_update().select_related("stage"), pk=deal.pk
        )
        if actor is not None and not permissions.can(actor, Action.EDIT, locked):
            raise Denied(Action.EDIT)
        if locked.version != expected_version:
            raise StaleVersion(locked.version)
        if stage.pipeline_id != locked.pipeline_id:
            raise ValidationError({"stage": [_("Choose a stage of the deal's pipeline.")]})
        errors: dict[str, list[str]] = {}
        loss_reason = fields.pop("loss_reason", None)
        _clean(locked, fields, errors)
        if stage.kind != Stage.Kind.LOST:
            locked.loss_reason = None
        elif loss_reason is not None:
            locked.loss_reason = loss_reason  # a lost deal moved within "lost" keeps its reason
        chosen = _contacts(actor, contacts, errors) if contacts is not None else None
        _required(locked, stage, locked.contacts.all() if chosen is None else chosen, errors)
        if errors:
            raise ValidationError(errors)
        if chosen is not None:
            locked.contacts.set(chosen)
        before, now = locked.stage, timezone.now()
        if before.pk == stage.pk:
            if fields or loss_reason is not None or chosen is not None:
                locked.version += 1  # no move, but what was sent is kept
                locked.save()
            return locked
        # Never negative: web servers' clocks may differ by a little (and the column is unsigned).
        spent = max(0, int((now - locked.stage_entered_at).total_seconds()))
        locked.stage, locked.stage_entered_at, locked.version = stage, now, locked.version + 1
        locked.closed_at = now if stage.kind != Stage.Kind.OPEN else None
        locked.save()
        StageChange.objects.create(
            deal=locked, from_stage=before, to_stage=stage, actor=actor, seconds_in_stage=spent
        )
        actor_id = getattr(actor, "pk", None)
        events.emit(events.DealStageChanged(locked.pk, actor_id, before.pk, stage.pk))
        if stage.kind == Stage.Kind.WON:
            events.emit(events.DealWon(locked.pk, actor_id))
        elif stage.kind == Stage.Kind.LOST:
            events.emit(events.DealLost(locked.pk, actor_id, locked.loss_reason_id))
    return locked


def trash_deal(actor: User | None, deal: Deal) -> None:
    if actor is not None and not permissions.can(actor, Action.DELETE, deal):
        raise Denied(Action.DELETE)
    with transaction.atomic():
        if Deal.objects.filter(pk=deal.pk).update(deleted_at=timezone.now()):
            audit.record(actor, "delete", deal)


def restore_deal(actor: User | None, deal: Deal) -> None:
    if actor is not None and not permissions.can(actor, Action.RESTORE, deal):
        raise Denied(Action.RESTORE)
    with transaction.atomic():
        restored = Deal.all_objects.filter(pk=deal.pk, deleted_at__isnull=False)
        if restored.update(deleted_at=None):
            audit.record(actor, "restore", deal)
