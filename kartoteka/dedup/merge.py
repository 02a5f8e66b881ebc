"""Merge two clients into one and undo it; the registry says what moves.

The merge's snapshot holds both clients' rows as they were and, per registered link, the ids
of the rows it moved and the whole rows it removed (copies the survivor already had), so that
unmerge puts both clients back as they were, each with what belongs to it. Rows added to the
survivor after the merge stay with the survivor.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients import derived
from kartoteka.clients.models import Client, ClientEvent
from kartoteka.clients.services import refresh_client
from kartoteka.core import audit
from kartoteka.core.errors import StaleVersion
from kartoteka.core.permissions import Action, require
from kartoteka.dedup import keys
from kartoteka.dedup.models import Candidate, Merge
from kartoteka.dedup.registry import LINKS, Link

# Fields the person merging chooses between; ids that must stay unique stay with their record.
NOT_CHOSEN = {"external_system", "external_id"}


def mergeable_fields(kind: str) -> list[str]:
    return [f for f in derived.editable_fields(kind) if f not in NOT_CHOSEN]


class _Exact(DjangoJSONEncoder):
    """Times to the microsecond (Django's encoder keeps milliseconds only)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


def _row(obj: Model) -> dict[str, Any]:
    values = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    return dict(json.loads(json.dumps(values, cls=_Exact)))


def _typed(model: type[Model], row: dict[str, Any]) -> dict[str, Any]:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return {k: (fields[k].to_python(v) if v is not None else None) for k, v in row.items()}


def _move(link: Link, loser: int, survivor: int) -> dict[str, Any]:
    model = link.model_class()
    rows = model._base_manager.all()
    mine = rows.filter(**{link.field: loser})
    dropped: list[dict[str, Any]] = []
    if link.unique_with:
        taken = set(rows.filter(**{link.field: survivor}).values_list(*link.unique_with))
        clash = [
            pk
            for pk, *values in mine.values_list("pk", *link.unique_with)
            if tuple(values) in taken
        ]
        if clash:
            dropped = [_row(obj) for obj in rows.filter(pk__in=clash)]
            rows.filter(pk__in=clash).delete()
    moved = list(mine.values_list("pk", flat=True))
    mine.update(**{link.field: survivor})
    return {"moved": moved, "dropped": dropped}


def _check(actor: User | None, survivor: Client, loser: Client) -> None:
    if survivor.pk == loser.pk:
        raise ValidationError({"survivor": [_("Choose two different clients.")]})
    if survivor.kind != loser.kind:
        raise ValidationError({"survivor": [_("A person and a company cannot be merged.")]})
    if actor is not None:
        require(actor, Action.MERGE, survivor)
        require(actor, Action.MERGE, loser)


def merge(
    actor: User | None,
    survivor: Client,
    loser: Client,
    choices: dict[str, str] | None = None,
    *,
    automatic: bool = False,
) -> Merge:
    """Move everything of `loser` to `survivor`; `choices` maps a field to "a" or "b" ("b" is
    the loser's value). The loser goes to the trash and the merge record points at both."""
    _check(actor, survivor, loser)
    allowed = mergeable_fields(survivor.kind)
    choices = choices or {}
    bad = sorted(k for k, v in choices.items() if k not in allowed or v not in ("a", "b"))
    if bad:
        raise ValidationError({f"fields.{bad[0]}": [_("This field cannot be chosen.")]})
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Client.objects.select_for_update().filter(pk__in=[survivor.pk, loser.pk])
        }
        if len(locked) != 2:
            raise ValidationError({"survivor": [_("One of the clients is already in the trash.")]})
        keep, gone = locked[survivor.pk], locked[loser.pk]
        if keep.version != survivor.version or gone.version != loser.version:
            raise StaleVersion(keep.version)
        snapshot: dict[str, Any] = {"survivor": _row(keep), "loser": _row(gone), "links": {}}
        for link in LINKS:
            snapshot["links"][link.name] = _move(link, gone.pk, keep.pk)
        changes: dict[str, Any] = {}
        for name in allowed:
            if choices.get(name) == "b" and getattr(keep, name) != getattr(gone, name):
                changes[name] = [
                    derived.plain(getattr(keep, name)),
                    derived.plain(getattr(gone, name)),
                ]
                setattr(keep, name, getattr(gone, name))
        keep.custom = {**gone.custom, **keep.custom}
        keep.name = keep.compose_name()
        keep.version += 1
        keep.save()
        refresh_client(keep)
        keys.refresh(keep)
        Client.all_objects.filter(pk=gone.pk).update(
            deleted_at=timezone.now(), version=gone.version + 1
        )
        record = Merge.objects.create(
            survivor=keep,
            loser=gone,
            actor=actor,
            automatic=automatic,
            snapshot=snapshot,
            survivor_version=keep.version,
        )
        moved = {k: len(v["moved"]) + len(v["dropped"]) for k, v in snapshot["links"].items()}
        ClientEvent.objects.create(
            client=keep,
            actor=actor,
            verb=ClientEvent.Verb.UPDATED,
            changes={"merged_from": gone.pk, "merge": record.pk, **changes},
        )
        ClientEvent.objects.create(
            client=gone,
            actor=actor,
            verb=ClientEvent.Verb.DELETED,
            changes={"merged_into": keep.pk, "merge": record.pk},
        )
        audit.record(
            actor, "update", keep, merged=gone.pk, merge=record.pk, automatic=automatic, moved=moved
        )
        Candidate.objects.filter(_pair_q(keep.pk, gone.pk)).update(
            status=Candidate.Status.MERGED, decided_by=actor, decided_at=timezone.now()
        )
    return record


def _pair_q(x: int, y: int) -> Q:
    return Q(a_id=min(x, y), b_id=max(x, y))


def _restore_client(pk: int, row: dict[str, Any]) -> None:
    values = _typed(Client, {k: v for k, v in row.items() if k not in ("id", "version")})
    current = Client.all_objects.values_list("version", flat=True).get(pk=pk)
    Client.all_objects.filter(pk=pk).update(**values, version=current + 1)


def unmerge(actor: User | None, record: Merge) -> None:
    """Put both clients back as the merge found them, each with what belongs to it."""
    if record.undone_at is not None:
        raise ValidationError({"merge": [_("This merge is already undone.")]})
    if not record.snapshot:
        raise ValidationError({"merge": [_("This merge cannot be undone: its data was erased.")]})
    with transaction.atomic():
        survivor = Client.all_objects.select_for_update().get(pk=record.survivor_id)
        loser = Client.all_objects.select_for_update().get(pk=record.loser_id)
        if actor is not None:
            require(actor, Action.MERGE, survivor)
            require(actor, Action.MERGE, loser)
        if survivor.version != record.survivor_version:
            raise StaleVersion(survivor.version)
        for link in reversed(LINKS):
            part = record.snapshot["links"].get(link.name)
            if not part:
                continue
            model = link.model_class()
            rows = model._base_manager.all()
            rows.filter(pk__in=part["moved"], **{link.field: survivor.pk}).update(
                **{link.field: loser.pk}
            )
            rows.bulk_create(model(**_typed(model, r)) for r in part["dropped"])
        _restore_client(survivor.pk, record.snapshot["survivor"])
        _restore_client(loser.pk, record.snapshot["loser"])
        for client in Client.all_objects.filter(pk__in=[survivor.pk, loser.pk]):
            refresh_client(client)
            keys.refresh(client)
            ClientEvent.objects.create(
                client=client,
                actor=actor,
                verb=ClientEvent.Verb.RESTORED,
                changes={"unmerged": record.pk},
            )
        record.undone_at, record.undone_by = timezone.now(), actor
        record.save(update_fields=["undone_at", "undone_by"])
        audit.record(actor, "restore", loser, unmerged=record.pk, survivor=survivor.pk)
        Candidate.objects.filter(_pair_q(survivor.pk, loser.pk)).update(
            status=Candidate.Status.OPEN, decided_by=actor, decided_at=timezone.now()
        )
