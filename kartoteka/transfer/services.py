"""Exporting the client list: within the user's rights, field rules and daily row limit.

An export over the limit waits for a head's (or an administrator's) approval. Every download is
audited; an export that brings a user near the limit alerts the administrators.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet, Sum, prefetch_related_objects
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import Team, User
from kartoteka.clients.models import Client, Employment
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
from kartoteka.transfer.vcard import Card

NEAR_LIMIT = 0.8
UNLIMITED = 10**9
CHUNK = 2000


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


def rows_of(user: User, form: ClientFilter, fmt: str = Export.Format.CSV) -> QuerySet[Client]:
    """The clients an export of the list holds: for a vCard export, only its persons."""
    queryset = form.apply(visible_clients(user, Action.EXPORT))
    if form.cleaned_data.get("q"):
        found = search_visible(queryset, form.cleaned_data["q"], form.hidden)
        queryset = Client.objects.filter(pk__in=found.values("pk"))
    if fmt == Export.Format.VCF:
        queryset = queryset.filter(kind=Client.Kind.PERSON)
    return queryset.order_by("pk")


def request_export(user: User, query: str, fmt: str) -> Export:
    """Record an export of the list that `query` describes; approved at once within the limit."""
    if permissions.scope_of(user, "client", Action.EXPORT) is Scope.NONE:
        raise Denied(Action.EXPORT)
    if fmt not in Export.Format.values:
        raise ValidationError({"format": [_("Choose CSV, XLSX or vCard.")]})
    query = clean_text(query, 2000)
    count = rows_of(user, _form(user, query), fmt).count()
    if count == 0 and fmt == Export.Format.VCF:
        raise ValidationError({"query": [_("Nothing to export: no persons match.")]})
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


def _begin_download(user: User, export: Export) -> ClientFilter:
    """Check that `export` may be downloaded now, mark it downloaded and audit it."""
    if export.user_id != user.pk or export.status != Export.Status.APPROVED:
        raise Denied(Action.EXPORT)
    if export.created_at < timezone.now() - dt.timedelta(days=7):
        raise ValidationError({"export": [_("This export has expired; ask for it again.")]})
    form = _form(user, export.query)
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
    return form


def download(user: User, export: Export) -> tuple[list[str], Iterator[Any]]:
    """The header and the rows of an approved export; marks it downloaded and audits it.

    The rows of a vCard export are vcard.Card objects (and the header is empty).
    """
    if export.format == Export.Format.VCF:
        return [], download_cards(user, export)
    form = _begin_download(user, export)
    columns = columns_for(user, export.query)
    keys = [c for c, _label in columns]
    # No more rows than were counted (and approved) when the export was asked for.
    rows = only_columns(rows_of(user, form), keys)[: export.rows]
    if "tags" in keys:
        rows = rows.prefetch_related("tags")

    def produce() -> Iterator[list[Any]]:
        for client in rows.iterator(chunk_size=CHUNK):
            yield [_cell(client, c) for c in keys]

    return [label for _c, label in columns], produce()


def download_cards(user: User, export: Export) -> Iterator[Card]:
    """The persons of an approved vCard export, as cards; marks it downloaded.

    Fields the user's role may not see are left out. Phones, e-mails and current jobs are read
    a chunk of persons at a time, and a job's company is named only if the user may see it.
    """
    if export.format != Export.Format.VCF:
        raise ValueError("only a vCard export is read as cards")
    form = _begin_download(user, export)
    hidden = form.hidden
    fields = ["id", "kind", "name", "last_name", "first_name", "middle_name", "birthday"]
    fields += ["description", *(["address"] if "address" not in hidden else [])]
    persons = rows_of(user, form, export.format).only(*fields)[: export.rows]
    lookups: list[str | Prefetch[Any]] = [
        *(["phones"] if "phones" not in hidden else []),
        *(["emails"] if "emails" not in hidden else []),
        Prefetch(
            "jobs",
            queryset=Employment.objects.filter(is_current=True)
            .select_related("company")
            .only("person_id", "position", "company__name"),
            to_attr="current_jobs",
        ),
    ]

    def produce() -> Iterator[Card]:
        found = persons.iterator(chunk_size=CHUNK)
        while chunk := list(islice(found, CHUNK)):
            prefetch_related_objects(chunk, *lookups)
            # Checked by id, as links_of does: a subquery over every visible client is slow.
            companies = {job.company_id for p in chunk for job in _jobs(p)}
            shown = set(
                visible_clients(user).filter(pk__in=companies).values_list("pk", flat=True)
                if companies
                else []
            )
            for person in chunk:
                yield _card(person, hidden, shown)

    return produce()


def _jobs(person: Client) -> list[Employment]:
    jobs: list[Employment] = getattr(person, "current_jobs", [])
    return jobs


def _card(person: Client, hidden: set[str], companies: set[int]) -> Card:
    job = next((j for j in _jobs(person) if j.company_id in companies), None)
    return Card(
        uid=f"kartoteka-client-{person.pk}",
        full_name=person.name or person.compose_name() or f"#{person.pk}",
        last_name=person.last_name,
        first_name=person.first_name,
        middle_name=person.middle_name,
        phones=[] if "phones" in hidden else [(p.kind, p.e164) for p in person.phones.all()],
        emails=[] if "emails" in hidden else [e.email for e in person.emails.all()],
        org=job.company.name if job else "",
        title=job.position if job else "",
        birthday=person.birthday,
        address="" if "address" in hidden else person.address,
        note=person.description,
    )


def history(user: User) -> QuerySet[Export]:
    return Export.objects.filter(Q(user=user)).select_related("decided_by")[:50]
