"""Exporting the client list: within the user's rights, field rules and daily row limit.

An export over the limit waits for a head's (or an administrator's) approval. Every download is
audited; an export that brings a user near the limit alerts the administrators.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, Sum
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import Team, User
from kartoteka.clients.models import Client
from kartoteka.clients.queries import (
    ClientFilter,
    only_columns,
    search_visible,
    visible_clients,
    visible_columns,
)
from kartoteka.core import alerts, audit, permissions
from kartoteka.core.forms import clean_text
from kartoteka.core.models import Notification
from kartoteka.core.permissions import Action, Denied, Scope
from kartoteka.transfer.models import Export

NEAR_LIMIT = 0.8
UNLIMITED = 10**9


def daily_limit(user: User) -> int:
    if permissions.rights(user).is_admin:
        return UNLIMITED
    return user.role.export_daily_rows if user.role else 500


def used_today(user: User) -> int:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    counted = Export.objects.filter(
        user=user, created_at__gte=start, status__in=[Export.Status.APPROVED, Export.Status.DONE]
    )
    return int(counted.aggregate(n=Sum("rows"))["n"] or 0)


def _form(user: User, query: str) -> ClientFilter:
    form = ClientFilter(QueryDict(query), user=user)
    if not form.is_valid():
        raise ValidationError(
            {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        )
    return form


def rows_of(user: User, form: ClientFilter) -> QuerySet[Client]:
    queryset = form.apply(visible_clients(user, Action.EXPORT))
    if form.cleaned_data.get("q"):
        found = search_visible(queryset, form.cleaned_data["q"], form.hidden)
        queryset = Client.objects.filter(pk__in=found.values("pk"))
    return queryset.order_by("pk")


def request_export(user: User, query: str, fmt: str) -> Export:
    """Record an export of the list that `query` describes; approved at once within the limit."""
    if permissions.scope_of(user, "client", Action.EXPORT) is Scope.NONE:
        raise Denied(Action.EXPORT)
    if fmt not in Export.Format.values:
        raise ValidationError({"format": [_("Choose CSV or XLSX.")]})
    query = clean_text(query, 2000)
    count = rows_of(user, _form(user, query)).count()
    if count == 0:
        raise ValidationError({"query": [_("Nothing to export: no clients match.")]})
    limit, used = daily_limit(user), used_today(user)
    within = used + count <= limit
    export = Export.objects.create(
        user=user,
        query=query,
        format=fmt,
        rows=count,
        status=Export.Status.APPROVED if within else Export.Status.PENDING,
    )
    if not within:
        _ask_for_approval(user, export)
    elif limit < UNLIMITED and used + count >= NEAR_LIMIT * limit:
        alerts.notify_admins(
            _("%(user)s has exported %(n)d of %(limit)d rows allowed today.")
            % {"user": user.get_username(), "n": used + count, "limit": limit}
        )
    return export


def _ask_for_approval(user: User, export: Export) -> None:
    heads = User.objects.filter(headed_teams__in=Team.objects.filter(members=user)).distinct()
    approvers = {u.pk: u for u in [*heads, *alerts.administrators()]}
    text = _("%(user)s asks to export %(n)d rows, over the daily limit.") % {
        "user": user.get_username(),
        "n": export.rows,
    }
    Notification.objects.bulk_create(
        Notification(user=u, text=text, link="/exports/") for u in approvers.values() if u != user
    )


def may_decide(actor: User, export: Export) -> bool:
    if export.user_id == actor.pk:
        return False
    who = permissions.rights(actor)
    if who.is_admin:
        return True
    return Team.objects.filter(head=actor, members=export.user_id).exists()


def pending_for(actor: User) -> QuerySet[Export]:
    pending = Export.objects.filter(status=Export.Status.PENDING).select_related("user")
    if permissions.rights(actor).is_admin:
        return pending.exclude(user=actor)
    return pending.filter(user__teams__head=actor).exclude(user=actor).distinct()


def decide(actor: User, export: Export, approve: bool) -> None:
    if not may_decide(actor, export) or export.status != Export.Status.PENDING:
        raise Denied(Action.EXPORT)
    export.status = Export.Status.APPROVED if approve else Export.Status.REJECTED
    export.decided_by, export.decided_at = actor, timezone.now()
    export.save(update_fields=["status", "decided_by", "decided_at"])
    verdict = _("approved") if approve else _("rejected")
    Notification.objects.create(
        user=export.user,
        text=_("Your export of %(n)d rows is %(verdict)s.")
        % {"n": export.rows, "verdict": verdict},
        link="/exports/",
    )


def columns_for(user: User, query: str) -> list[tuple[str, str]]:
    form = _form(user, query)
    available = {
        **visible_columns(form.hidden),
        **{f"custom.{f.key}": f.label for f in form.custom_fields},
    }
    chosen = [c for c in QueryDict(query).getlist("col") if c in available] or [
        c
        for c in ("name", "kind", "phone", "email", "owner", "stage", "source", "inn", "created_at")
        if c in available
    ]
    return [(c, str(available[c])) for c in chosen]


def _cell(client: Client, column: str) -> Any:
    values = {
        "name": lambda: client.name,
        "kind": client.get_kind_display,
        "phone": lambda: client.primary_phone,
        "email": lambda: client.primary_email,
        "owner": lambda: str(client.owner) if client.owner_id else "",
        "stage": client.get_stage_display,
        "source": client.get_source_display,
        "inn": lambda: client.inn,
        "completeness": lambda: client.completeness,
        "created_at": lambda: timezone.localtime(client.created_at).strftime("%Y-%m-%d %H:%M"),
        "last_contact_at": lambda: (
            timezone.localtime(client.last_contact_at).strftime("%Y-%m-%d %H:%M")
            if client.last_contact_at
            else ""
        ),
        "tags": lambda: ", ".join(t.name for t in client.tags.all()),
    }
    if column.startswith("custom."):
        value = client.custom.get(column.removeprefix("custom."))
        return ", ".join(value) if isinstance(value, list) else value
    return values[column]()


def download(user: User, export: Export) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and the rows of an approved export; marks it downloaded and audits it."""
    if export.user_id != user.pk or export.status != Export.Status.APPROVED:
        raise Denied(Action.EXPORT)
    if export.created_at < timezone.now() - dt.timedelta(days=7):
        raise ValidationError({"export": [_("This export has expired; ask for it again.")]})
    form = _form(user, export.query)
    columns = columns_for(user, export.query)
    keys = [c for c, _label in columns]
    # No more rows than were counted (and approved) when the export was asked for.
    rows = only_columns(rows_of(user, form), keys)[: export.rows]
    if "tags" in keys:
        rows = rows.prefetch_related("tags")
    Export.objects.filter(pk=export.pk).update(status=Export.Status.DONE)
    audit.record(
        user,
        "export",
        kind="client",
        target_id=export.pk,
        rows=export.rows,
        query=export.query,
        format=export.format,
    )

    def produce() -> Iterator[list[Any]]:
        for client in rows.iterator(chunk_size=2000):
            yield [_cell(client, c) for c in keys]

    return [label for _c, label in columns], produce()


def history(user: User) -> QuerySet[Export]:
    return Export.objects.filter(Q(user=user)).select_related("decided_by")[:50]
