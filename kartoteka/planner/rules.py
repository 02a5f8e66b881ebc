"""Contact-frequency control: which clients a rule covers, which are out of it (no contact of
the rule's kinds within its days), a report per manager, and the automatic tasks.

Criteria are named and extensible: `CRITERIA[name](values) -> Q` over Client: segments, ABC and
XYZ classes, tags, stages, sources, kinds, owners; other apps may register more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, DateTimeField, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client
from kartoteka.core import audit, permissions
from kartoteka.core.permissions import Action, AnyUser
from kartoteka.planner.models import ContactRule, Task, TaskChange, TaskLink

BATCH = 1000


def _ids(values: list[Any]) -> list[int]:
    return [int(v) for v in values if isinstance(v, int) or (isinstance(v, str) and v.isdigit())]


def _in_segments(values: list[Any]) -> Q:
    """Clients of any of the segments, each compiled as its author sees it (a dynamic segment
    whose rules name a field its author may no longer see matches no one)."""
    from kartoteka.segments.models import Segment
    from kartoteka.segments.queries import condition

    matched = Q(pk__in=[])
    for segment in Segment.objects.filter(pk__in=_ids(values)).select_related("created_by"):
        try:
            matched |= condition(segment, segment.created_by)
        except ValidationError:
            continue
    return matched


def _in_class(letter: str, allowed: tuple[str, ...]) -> Callable[[list[Any]], Q]:
    """The ABC or XYZ class of the client's last analytics run (segments.ClientClass)."""
    return lambda values: Q(**{f"analytics__{letter}__in": [v for v in values if v in allowed]})


CRITERIA: dict[str, Callable[[list[Any]], Q]] = {
    "segment": _in_segments,
    "abc": _in_class("abc", ("A", "B", "C")),
    "xyz": _in_class("xyz", ("X", "Y", "Z")),
    "tags": lambda values: Q(
        pk__in=Client.tags.through.objects.filter(tag_id__in=_ids(values)).values("client_id")
    ),
    "stage": lambda values: Q(stage__in=[v for v in values if v in Client.Stage.values]),
    "source": lambda values: Q(source__in=[v for v in values if v in Client.Source.values]),
    "kind": lambda values: Q(kind__in=[v for v in values if v in Client.Kind.values]),
    "owner": lambda values: Q(owner_id__in=_ids(values)),
}


def register_criterion(name: str, condition: Callable[[list[Any]], Q]) -> None:
    CRITERIA[name] = condition


def clean_criteria(criteria: Any) -> dict[str, list[Any]]:
    if not isinstance(criteria, dict):
        raise ValidationError({"criteria": [_("Send the criteria as an object.")]})
    unknown = sorted(set(criteria) - set(CRITERIA))
    if unknown:
        raise ValidationError(
            {"criteria": [_("Unknown criterion: %(name)s.") % {"name": unknown[0]}]}
        )
    cleaned = {}
    for name, values in criteria.items():
        if not isinstance(values, list) or len(values) > 200:
            raise ValidationError(
                {"criteria": [_("%(name)s: send a list of values.") % {"name": name}]}
            )
        if values:
            cleaned[name] = values
    return cleaned


def covered(rule: ContactRule, clients: QuerySet[Client] | None = None) -> QuerySet[Client]:
    rows = clients if clients is not None else Client.objects.all()
    for name, values in rule.criteria.items():
        if name in CRITERIA:
            rows = rows.filter(CRITERIA[name](values))
    return rows


def out_of_rule(
    rule: ContactRule, clients: QuerySet[Client] | None = None, now: dt.datetime | None = None
) -> QuerySet[Client]:
    """The covered clients with no contact of the rule's kinds within its days."""
    since = (now or timezone.now()) - dt.timedelta(days=rule.every_days)
    rows = covered(rule, clients)
    if not rule.interaction_kinds:
        return rows.filter(Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=since))
    last = (
        Interaction.objects.filter(client=OuterRef("pk"), kind__in=rule.interaction_kinds)
        .order_by()
        .values("client")
        .annotate(at=Max("occurred_at"))
        .values("at")
    )
    rows = rows.annotate(last_by_kind=Subquery(last, output_field=DateTimeField()))
    return rows.filter(Q(last_by_kind__isnull=True) | Q(last_by_kind__lt=since))


def report(user: AnyUser, rule: ContactRule) -> list[dict[str, Any]]:
    """Per manager (client owner): how many of the clients the user may see are out of rule."""
    visible = permissions.scope(user, Action.VIEW, Client.objects.all())
    rows = (
        out_of_rule(rule, visible)
        .order_by()
        .values("owner_id", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(n=Count("id"))
        .order_by("-n", "owner__username")
    )
    return [
        {
            "owner_id": r["owner_id"],
            "owner": " ".join(filter(None, (r["owner__first_name"], r["owner__last_name"])))
            or r["owner__username"]
            or "—",
            "count": r["n"],
        }
        for r in rows
    ]


def save_rule(actor: AnyUser, rule: ContactRule | None, fields: dict[str, Any]) -> ContactRule:
    """Create or change a rule (administrators)."""
    permissions.require(actor, Action.CONFIGURE)
    rule = rule or ContactRule()
    for name in ("name", "is_active", "every_days", "auto_task", "task_kind"):
        if name in fields:
            setattr(rule, name, fields[name])
    kinds = list(fields.get("interaction_kinds", rule.interaction_kinds) or [])
    if any(k not in Interaction.Kind.values for k in kinds):
        raise ValidationError({"interaction_kinds": [_("Choose kinds of interaction.")]})
    rule.interaction_kinds = kinds
    rule.criteria = clean_criteria(fields.get("criteria", rule.criteria))
    try:
        rule.full_clean()
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    with transaction.atomic():
        created = rule.pk is None
        rule.save()
        audit.record(actor, "create" if created else "configure", rule, name=rule.name)
    return rule


def create_rule_tasks(now: dt.datetime | None = None) -> int:
    """The periodic job: a task for each client out of an automatic rule, assigned to the
    client's owner — unless that client already has an open task from the rule (idempotent:
    the rule's row is locked while its tasks are made)."""
    now = now or timezone.now()
    made = 0
    for rule_id in ContactRule.objects.filter(is_active=True, auto_task=True).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            rule = ContactRule.objects.select_for_update().get(pk=rule_id)
            made += _tasks_for(rule, now)
    return made


def _tasks_for(rule: ContactRule, now: dt.datetime) -> int:
    already = TaskLink.objects.filter(
        task__rule=rule, task__status__in=Task.ACTIVE, client__isnull=False
    ).values("client_id")
    due = (
        out_of_rule(rule, Client.objects.filter(owner__isnull=False, owner__is_active=True), now)
        .exclude(pk__in=already)
        .values_list("pk", "owner_id", "name")
    )
    made = 0
    title = _("Contact the client (rule “%(rule)s”)") % {"rule": rule.name}
    rows = list(due)
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        tasks = Task.objects.bulk_create(
            Task(
                kind=rule.task_kind,
                title=f"{title}: {name}"[:200],
                assignee_id=owner,
                due_at=now,
                planned_at=now,
                rule=rule,
            )
            for _pk, owner, name in chunk
        )
        TaskLink.objects.bulk_create(
            TaskLink(task=t, client_id=c[0]) for t, c in zip(tasks, chunk, strict=True)
        )
        TaskChange.objects.bulk_create(
            TaskChange(task=t, verb=TaskChange.Verb.CREATED, to_due=now, details={"rule": rule.pk})
            for t in tasks
        )
        made += len(tasks)
    return made
