"""Reads of call quality, scoped by the permissions engine's "call" scope: a supervisor (team or
all calls) sees their operators' evaluations, drafts included; an operator sees only their own
submitted ones."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.http import Http404
from django.utils import timezone

from kartoteka.accounts.models import User
from kartoteka.callcenter import access
from kartoteka.callcenter.models import Call
from kartoteka.core import permissions
from kartoteka.core.permissions import Action, AnyUser, Scope
from kartoteka.quality.models import Answer, Evaluation, Scorecard
from kartoteka.quality.scoring import failed


def scorecards(user: AnyUser) -> QuerySet[Scorecard]:
    """Scorecards are shared settings: supervisors see them all, others none."""
    return Scorecard.objects.all() if access.supervises(user) else Scorecard.objects.none()


def scorecard_or_404(user: AnyUser, pk: int) -> Scorecard:
    found = scorecards(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def operator_ids(user: AnyUser) -> list[int] | None:
    """Whose calls the user may see: None for everyone's."""
    level = permissions.scope_of(user, "call", Action.VIEW)
    if level is Scope.ALL:
        return None
    who = permissions.rights(user)
    if level is Scope.TEAM:
        return sorted(who.team_ids)
    return [who.user_id] if who.user_id and level is Scope.OWN else []


def visible_evaluations(user: AnyUser) -> QuerySet[Evaluation]:
    rows = Evaluation.objects.all()
    who = permissions.rights(user)
    if who.user_id is None:
        return rows.none()
    if not access.supervises(user):
        return rows.filter(operator_id=who.user_id, state=Evaluation.State.SUBMITTED)
    ids = operator_ids(user)
    return rows if ids is None else rows.filter(Q(operator_id__in=ids) | Q(evaluator=user))


def evaluation_or_404(user: AnyUser, pk: int) -> Evaluation:
    """Scoped by visible_evaluations (the "call" scope read by operator), not by an owner path."""
    rows = visible_evaluations(user).select_related(
        "call", "call__client", "call__disposition", "operator", "evaluator", "scorecard"
    )
    found = rows.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def evaluable_calls(user: AnyUser) -> QuerySet[Call]:
    """Answered calls with a playable recording, of operators the user may see."""
    rows = Call.objects.filter(
        answered_at__isnull=False, user__isnull=False, status=Call.Status.ENDED
    ).filter(Q(recording_url__startswith="https://") | Q(recording_url__startswith="http://"))
    ids = operator_ids(user)
    return rows if ids is None else rows.filter(user_id__in=ids)


def for_call(user: AnyUser, call: Call) -> list[Evaluation]:
    return list(visible_evaluations(user).filter(call=call).select_related("scorecard"))


def supervisors() -> QuerySet[User]:
    """Who can be handed a worklist: active users who may evaluate (`access.runs_centre`)."""
    return User.objects.filter(access.centre_runners(), is_active=True).order_by("username")


# --- operator scores over time ----------------------------------------------------------------

GRAINS = {"week": TruncWeek, "month": TruncMonth}
MAX_OPERATORS = 20


@dataclass
class Scores:
    labels: list[str]
    periods: list[dt.date]
    rows: list[dict[str, Any]]  # per operator: user, values (avg or None), counts
    criteria: list[dict[str, Any]]


def submitted(user: AnyUser, start: dt.date, end: dt.date) -> QuerySet[Evaluation]:
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, zone)
    return visible_evaluations(user).filter(
        state=Evaluation.State.SUBMITTED,
        call_started_at__gte=since,
        call_started_at__lt=until,
        total__isnull=False,
    )


def scores(
    user: AnyUser, start: dt.date, end: dt.date, grain: str, operator_id: int | None = None
) -> Scores:
    """Each operator's average total per week or month, and the criteria failed most often."""
    rows = submitted(user, start, end)
    if operator_id is not None:
        rows = rows.filter(operator_id=operator_id)
    trunc = GRAINS[grain]
    zone = timezone.get_current_timezone()
    series = (
        rows.annotate(period=trunc("call_started_at", tzinfo=zone))
        .values("operator_id", "period")
        .annotate(avg=Avg("total"), count=Count("id"))
        .order_by("period")
    )
    cells: dict[int, dict[dt.date, tuple[Decimal, int]]] = defaultdict(dict)
    periods: set[dt.date] = set()
    for row in series:
        day = row["period"].date() if isinstance(row["period"], dt.datetime) else row["period"]
        periods.add(day)
        cells[row["operator_id"]][day] = (
            Decimal(row["avg"]).quantize(Decimal("0.01")),
            row["count"],
        )
    ordered = sorted(periods)
    users = User.objects.in_bulk(list(cells)[:MAX_OPERATORS])
    table = [
        {
            "user": users[uid],
            "cells": [(day, *cells[uid].get(day, (None, 0))) for day in ordered],
        }
        for uid in sorted(users, key=lambda u: str(users[u]))
    ]
    fmt = "%Y-%m" if grain == "month" else "%Y-%m-%d"
    return Scores(
        labels=[day.strftime(fmt) for day in ordered],
        periods=ordered,
        rows=table,
        criteria=breakdown(rows),
    )


def breakdown(evaluations: QuerySet[Evaluation]) -> list[dict[str, Any]]:
    """Per criterion (by its label): how often it was scored, failed, and its average %."""
    stats: dict[str, dict[str, Any]] = {}
    answers = Answer.objects.filter(evaluation__in=evaluations.values("pk"), score__isnull=False)
    for label, score, highest in answers.values_list("label", "score", "max_score").iterator():
        row = stats.setdefault(label, {"label": label, "scored": 0, "failed": 0, "points": 0.0})
        row["scored"] += 1
        row["failed"] += failed(score, highest)
        row["points"] += (score or 0) / highest
    result = []
    for row in stats.values():
        row["fail_rate"] = round(100 * row["failed"] / row["scored"], 1)
        row["average"] = round(100 * row.pop("points") / row["scored"], 1)
        result.append(row)
    return sorted(result, key=lambda r: (-r["fail_rate"], r["label"]))
