"""/api/v1/plans and /api/v1/reports/sales: sales plans, plan vs fact, forecast, funnel.

Reports take `from` and `to` (months, "YYYY-MM", both included; this calendar year when left
out), `pipeline`, `owner` and `team` (ids the user may choose) and count only the deals the
user may see. Money is a map of currency to amount: amounts in different currencies are never
added up. Plans: administrators set any, a team's head those of their team and its members.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kartoteka.accounts.models import Team, User
from kartoteka.clients.schemas import Clean, Strict, UserOut, field_error, user_out
from kartoteka.core.errors import field_errors
from kartoteka.core.permissions import Action, Denied
from kartoteka.core.views import actor
from kartoteka.sales import plans, reports
from kartoteka.sales.models import Pipeline, SalesPlan
from kartoteka.sales.reports import Money
from kartoteka.sales.schemas import ID

plans_router = Router(tags=["sales plans"])
reports_router = Router(tags=["sales reports"])


# --- schemas ----------------------------------------------------------------------------------


class ReportQuery(Clean):
    start: str | None = Field(None, alias="from", max_length=7, description="First month, YYYY-MM.")
    end: str | None = Field(None, alias="to", max_length=7, description="Last month, YYYY-MM.")
    pipeline: int | None = ID
    owner: int | None = ID
    team: int | None = ID


class NamedRef(Schema):
    id: int
    name: str


class PlanOut(Schema):
    id: int
    month: str
    owner: UserOut | None
    team: NamedRef | None
    amount: Decimal
    currency: str
    deals: int


class PlanList(Schema):
    items: list[PlanOut]


class PlanIn(Strict):
    month: str = Field(max_length=7, description='"YYYY-MM".')
    owner_id: int | None = ID
    team_id: int | None = ID
    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    currency: str = Field("RUB", max_length=3)
    deals: int = Field(0, ge=0, le=plans.MAX_DEALS)


class PlanFactOut(Schema):
    month: str
    owner: UserOut | None
    team: NamedRef | None
    plan_amount: Decimal | None
    plan_currency: str
    plan_deals: int | None
    fact: Money
    fact_deals: int
    percent: int | None
    deals_percent: int | None


class PlanFactList(Schema):
    items: list[PlanFactOut]


class ForecastMonth(Schema):
    month: str | None = Field(description="null: open deals without an expected close date.")
    weighted: Money
    total: Money
    deals: int


class ForecastOut(Schema):
    months: list[ForecastMonth]
    undated: ForecastMonth


class OutcomesOut(Schema):
    won: int
    lost: int
    win_rate: int | None = Field(description="Won / (won + lost), per cent.")
    won_amount: Money
    average_deal: Money
    cycle_days: Decimal | None = Field(description="Average closed_at − created_at of won deals.")


class ManagerOut(OutcomesOut):
    owner: UserOut | None
    open_deals: int
    weighted: Money


class ManagerList(Schema):
    items: list[ManagerOut]


class FunnelStage(Schema):
    id: int
    name: str
    kind: str
    reached: int
    conversion: int | None = Field(description="Per cent of the previous open or won stage.")


class FunnelOut(Schema):
    pipeline_id: int
    stages: list[FunnelStage]


class LossOut(Schema):
    reason: NamedRef | None
    deals: int
    amount: Money


class LossList(Schema):
    items: list[LossOut]


# --- helpers ----------------------------------------------------------------------------------


def _month(day: dt.date | None) -> str | None:
    return f"{day:%Y-%m}" if day else None


def _named(item: Any) -> dict[str, Any] | None:
    return {"id": item.pk, "name": item.name} if item is not None else None


def _filters(request: HttpRequest) -> reports.Filters:
    known = {"from", "to", "pipeline", "owner", "team"}
    unknown = sorted(set(request.GET) - known)
    if unknown:
        raise field_error(["query", unknown[0][:100]], _("There is no such filter."))
    try:
        return reports.build_filters(actor(request), request.GET)
    except ValidationError as exc:
        key, messages = next(iter(field_errors(exc).items()))
        raise field_error(["query", key], " ".join(messages)) from None


def _outcomes(figures: reports.Outcomes) -> dict[str, Any]:
    return {
        "won": figures.won,
        "lost": figures.lost,
        "win_rate": figures.win_rate,
        "won_amount": figures.won_amount,
        "average_deal": figures.average_deal,
        "cycle_days": figures.cycle_days,
    }


def _plan(plan: SalesPlan) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "month": _month(plan.month),
        "owner": user_out(plan.owner),
        "team": _named(plan.team),
        "amount": plan.amount,
        "currency": plan.currency,
        "deals": plan.deals,
    }


# --- reports ----------------------------------------------------------------------------------


@reports_router.get("/plan-fact", response=PlanFactList, summary="Plan vs fact per month")
def plan_fact(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    rows = plans.plan_vs_fact(actor(request), _filters(request))
    items = [
        {
            "month": _month(r.month),
            "owner": user_out(r.owner),
            "team": _named(r.team),
            "plan_amount": r.plan_amount,
            "plan_currency": r.plan_currency,
            "plan_deals": r.plan_deals,
            "fact": r.fact,
            "fact_deals": r.fact_deals,
            "percent": r.percent,
            "deals_percent": r.deals_percent,
        }
        for r in rows
    ]
    return {"items": items}


@reports_router.get("/forecast", response=ForecastOut, summary="Weighted pipeline by month")
def forecast(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    rows = [
        {"month": _month(r.month), "weighted": r.weighted, "total": r.total, "deals": r.deals}
        for r in reports.forecast(actor(request), _filters(request))
    ]
    return {"months": rows[:-1], "undated": rows[-1]}


@reports_router.get("/outcomes", response=OutcomesOut, summary="Win rate, average deal, cycle")
def outcomes(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    return _outcomes(reports.outcomes(actor(request), _filters(request)))


@reports_router.get("/funnel", response=FunnelOut, summary="Funnel conversion stage to stage")
def funnel(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    chosen = _filters(request)
    pipeline = chosen.pipeline or Pipeline.objects.filter(is_active=True).first()
    if pipeline is None:
        raise field_error(["query", "pipeline"], _("Create a pipeline first."))
    rows = reports.funnel(actor(request), chosen, pipeline)
    stages = [
        {
            "id": r.stage.pk,
            "name": r.stage.name,
            "kind": r.stage.kind,
            "reached": r.reached,
            "conversion": r.conversion,
        }
        for r in rows
    ]
    return {"pipeline_id": pipeline.pk, "stages": stages}


@reports_router.get("/losses", response=LossList, summary="Loss reasons")
def losses(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    rows = reports.losses(actor(request), _filters(request))
    return {
        "items": [{"reason": _named(r.reason), "deals": r.deals, "amount": r.amount} for r in rows]
    }


@reports_router.get("/managers", response=ManagerList, summary="The figures per manager")
def managers(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    rows = reports.per_manager(actor(request), _filters(request))
    items = [
        _outcomes(r.figures)
        | {
            "owner": user_out(r.owner),
            "open_deals": r.figures.open_deals,
            "weighted": r.figures.weighted,
        }
        for r in rows
    ]
    return {"items": items}


# --- plans ------------------------------------------------------------------------------------


@plans_router.get("", response=PlanList, summary="Plans you may see in a period")
def list_plans(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    chosen = _filters(request)
    rows = plans.visible_plans(actor(request)).filter(
        month__gte=chosen.start, month__lte=chosen.end
    )
    if chosen.owner is not None:
        rows = rows.filter(owner=chosen.owner)
    if chosen.team is not None:
        rows = rows.filter(team=chosen.team)
    return {"items": [_plan(p) for p in rows.order_by("month", "pk")[:2000]]}


@plans_router.get("/{int:plan_id}", response=PlanOut, summary="A plan")
def get_plan(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    return _plan(_visible(request, plan_id))


def _visible(request: HttpRequest, plan_id: int) -> SalesPlan:
    """A plan the user may see (its figures are their own, their teams' or all), else 404."""
    found = plans.visible_plans(actor(request)).filter(pk=plan_id).first()
    if found is None:
        raise Http404
    return found


@plans_router.put("", response=PlanOut, summary="Set a month's plan of a manager or a team")
def put_plan(request: HttpRequest, payload: PlanIn) -> dict[str, Any]:
    me = actor(request)
    if not plans.may_plan(me):
        raise Denied(Action.EDIT)
    month = reports.parse_month(payload.month)
    if month is None:
        raise field_error(["body", "month"], _("Enter a month as YYYY-MM."))
    if (payload.owner_id is None) == (payload.team_id is None):
        raise field_error(["body", "owner_id"], _("Send an owner_id or a team_id."))
    owner = team = None
    if payload.owner_id is not None:
        owner = User.objects.filter(is_active=True, pk=payload.owner_id).first()
        if owner is None:
            raise field_error(["body", "owner_id"], _("There is no such user."))
    else:
        team = Team.objects.filter(pk=payload.team_id or 0).first()
        if team is None:
            raise field_error(["body", "team_id"], _("There is no such team."))
    plan = plans.set_plan(
        me,
        month,
        owner=owner,
        team=team,
        amount=payload.amount,
        currency=payload.currency,
        deals=payload.deals,
    )
    return _plan(SalesPlan.objects.select_related("owner", "team").get(pk=plan.pk))


@plans_router.delete("/{int:plan_id}", response={204: None}, summary="Delete a plan")
def delete_plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    plans.delete_plan(actor(request), _visible(request, plan_id))
    return HttpResponse(status=204)
