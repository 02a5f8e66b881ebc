"""Sales plans: a month's target (amount and won deals) for a manager or a team; plan vs fact.

Administrators set any plan; a team's head sets the plans of their team and of its members;
nobody else sets plans (Denied: 403). Anyone sees the plans of the people whose deals they see.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from kartoteka.accounts.models import Team, User
from kartoteka.activities.services import CURRENCIES
from kartoteka.core import audit, permissions
from kartoteka.core.permissions import Action, AnyUser, Denied, Scope
from kartoteka.sales import reports
from kartoteka.sales.models import SalesPlan, Stage

MAX_AMOUNT = Decimal("999999999999.99")
MAX_DEALS = 1_000_000


def plannable_teams(actor: AnyUser) -> QuerySet[Team]:
    """Teams whose plans `actor` may set."""
    if permissions.rights(actor).is_admin:
        return Team.objects.all()
    me = getattr(actor, "pk", None)
    return Team.objects.filter(head_id=me) if me is not None else Team.objects.none()


def plannable_owners(actor: AnyUser) -> QuerySet[User]:
    """Managers whose plans `actor` may set."""
    people = User.objects.filter(is_active=True).order_by("first_name", "username")
    if permissions.rights(actor).is_admin:
        return people
    me = getattr(actor, "pk", None)
    return people.filter(teams__head_id=me).distinct() if me is not None else people.none()


def may_plan(actor: AnyUser) -> bool:
    """May `actor` set any plan at all (an administrator or a team's head)?"""
    return permissions.rights(actor).is_admin or plannable_teams(actor).exists()


def may_set(actor: AnyUser, owner: User | None, team: Team | None) -> bool:
    if permissions.rights(actor).is_admin:
        return True
    if getattr(actor, "pk", None) is None:
        return False
    if team is not None:
        return team.head_id == actor.pk  # type: ignore[union-attr]
    return owner is not None and Team.objects.filter(Q(head=actor), members=owner).exists()


def settable(actor: AnyUser, plans: list[SalesPlan]) -> set[int]:
    """The ids of `plans` (their teams loaded) that `actor` may set: `may_set` for each plan, in
    one query instead of one per plan."""
    if permissions.rights(actor).is_admin:
        return {p.pk for p in plans}
    me = getattr(actor, "pk", None)
    if me is None:
        return set()
    led = set(
        Team.members.through.objects.filter(team__head_id=me).values_list("user_id", flat=True)
    )
    return {
        p.pk for p in plans if (p.team.head_id == me if p.team is not None else p.owner_id in led)
    }


def _checked(amount: object, currency: str, deals: object) -> tuple[Decimal, str, int]:
    errors: dict[str, list[str]] = {}
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        errors["amount"] = [_("Enter an amount that is not negative.")]
    elif value != value.quantize(Decimal("0.01")):
        errors["amount"] = [_("At most two decimal places.")]
    code = (currency or "").upper()
    if code not in CURRENCIES:
        errors["currency"] = [_("Unknown currency.")]
    if not isinstance(deals, int) or isinstance(deals, bool) or not 0 <= deals <= MAX_DEALS:
        errors["deals"] = [_("Enter a whole number of deals, not negative.")]
    if errors:
        raise ValidationError(errors)
    return value, code, int(deals)  # type: ignore[call-overload]


def set_plan(
    actor: AnyUser,
    month: dt.date,
    *,
    owner: User | None = None,
    team: Team | None = None,
    amount: object,
    currency: str = "RUB",
    deals: object = 0,
) -> SalesPlan:
    """Create or replace the plan of `owner` or `team` for `month` (any day of it)."""
    if (owner is None) == (team is None):
        raise ValidationError({"owner": [_("Choose a manager or a team.")]})
    if not may_set(actor, owner, team):
        raise Denied(Action.EDIT)
    value, code, count = _checked(amount, currency, deals)
    first = month.replace(day=1)
    key = {"month": first, "owner": owner} if owner is not None else {"month": first, "team": team}
    defaults = {"amount": value, "currency": code, "deals": count}
    for attempt in range(2):  # two first writers of one month: the second updates
        try:
            with transaction.atomic():
                plan, created = SalesPlan.objects.update_or_create(defaults=defaults, **key)
                audit.record(
                    actor,
                    "plan" if created else "replan",
                    plan,
                    month=f"{first:%Y-%m}",
                    amount=str(value),
                    currency=code,
                    deals=count,
                )
            return plan
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def delete_plan(actor: AnyUser, plan: SalesPlan) -> None:
    if not may_set(actor, plan.owner, plan.team):
        raise Denied(Action.DELETE)
    with transaction.atomic():
        audit.record(actor, "unplan", plan, month=f"{plan.month:%Y-%m}")
        SalesPlan.objects.filter(pk=plan.pk).delete()


# --- plan vs fact -----------------------------------------------------------------------------


@dataclass
class PlanRow:
    """One month of one manager or team: the plan (if set) and the won deals."""

    month: dt.date
    owner: User | None
    team: Team | None
    plan_amount: Decimal | None = None
    plan_currency: str = ""
    plan_deals: int | None = None
    fact: reports.Money = field(default_factory=dict)
    fact_deals: int = 0

    @property
    def fact_amount(self) -> Decimal:
        """The fact in the plan's currency (other currencies are shown, never converted)."""
        return self.fact.get(self.plan_currency, Decimal(0))

    @property
    def percent(self) -> int | None:
        if not self.plan_amount:
            return None
        return int(self.fact_amount * 100 / self.plan_amount)

    @property
    def deals_percent(self) -> int | None:
        if not self.plan_deals:
            return None
        return int(self.fact_deals * 100 / self.plan_deals)


def visible_plans(user: AnyUser) -> QuerySet[SalesPlan]:
    """Plans whose figures `user` may see: their own, their teams' and teammates', or all."""
    plans = SalesPlan.objects.select_related("owner", "team")
    level = permissions.scope_of(user, "deal", Action.VIEW)
    if level is Scope.ALL:
        return plans
    owners = reports.choosable_owners(user).values("pk")
    return plans.filter(
        Q(owner__in=owners) | Q(team__in=reports.choosable_teams(user).values("pk"))
    )


def plan_vs_fact(user: AnyUser, filters: reports.Filters) -> list[PlanRow]:
    """Per month and per manager or team with a plan in the period: plan and fact.

    Fact: the won deals' amount (per currency) and count by the month of `closed_at`. A team's
    fact is the sum of its members' and head's won deals that the viewer may see.
    """
    plans = visible_plans(user).filter(month__gte=filters.start, month__lte=filters.end)
    if filters.owner is not None:
        plans = plans.filter(owner=filters.owner)
    if filters.team is not None:
        plans = plans.filter(Q(team=filters.team) | Q(owner__in=reports.team_members(filters.team)))
    plans_list = list(plans.order_by("month", "team__name", "owner__username"))
    teams = {p.team_id: p.team for p in plans_list if p.team is not None}
    members: dict[int, set[int]] = defaultdict(set)
    if teams:  # one query for every team's people
        through = Team.members.through.objects.filter(team_id__in=list(teams))
        for team_id, user_id in through.values_list("team_id", "user_id"):
            members[team_id].add(user_id)
        for team in teams.values():
            if team is not None and team.head_id:
                members[team.pk].add(team.head_id)
    won = reports.closed(user, filters).filter(reports.in_kind(filters, Stage.Kind.WON))
    grouped = (
        won.annotate(month=TruncMonth("closed_at"))
        .values("month", "owner", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    )
    facts: dict[tuple[dt.date, int | None], tuple[reports.Money, list[int]]] = {}
    for row in grouped:
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        money, count = facts.setdefault((month, row["owner"]), ({}, [0]))
        reports.add_money(money, row["currency"], row["total"])
        count[0] += row["n"]
    rows = []
    for plan in plans_list:
        line = PlanRow(plan.month, plan.owner, plan.team, plan.amount, plan.currency, plan.deals)
        people = members[plan.team_id] if plan.team_id else {plan.owner_id}
        for (month, owner), (money, count) in facts.items():
            if month == plan.month and owner in people:
                for currency, amount in money.items():
                    reports.add_money(line.fact, currency, amount)
                line.fact_deals += count[0]
        rows.append(line)
    return rows
