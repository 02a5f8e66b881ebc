"""GET /api/v1/calls/kpi: the KPI report as JSON rows (definitions in callcenter/kpi.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kartoteka.callcenter import access, kpi
from kartoteka.clients.schemas import Message, Strict, field_error
from kartoteka.core.errors import field_errors
from kartoteka.core.views import actor

router = Router(tags=["calls"])


class KpiQuery(Strict):
    start: dt.date | None = Field(None, alias="from", description="First local day, YYYY-MM-DD.")
    to: dt.date | None = Field(None, description="Last local day (inclusive); at most a year.")
    group: Literal["queue", "operator", "interval"] = "queue"
    interval: Literal["hour", "day", "week"] = "day"
    answer_s: int = Field(20, ge=1, le=kpi.MAX_ANSWER_S, description="T: answered within T s.")
    variant: Literal["answered", "offered"] = Field(
        "offered", description="SL over answered, or over answered + counted abandons."
    )
    short_abandon_s: int = Field(5, ge=0, le=kpi.MAX_SHORT_ABANDON_S)
    queue: str | None = Field(None, max_length=80)
    operator_id: int | None = Field(None, ge=1, le=2**62)


class RowOut(Schema):
    key: str | int | None
    label: str
    answered: int
    answered_in_t: int
    abandoned: int
    short_abandoned: int
    offered: int
    wait_s: float
    handled: int
    talk_s: float
    acw_s: float
    busy_s: float
    logged_in_s: float
    identified: int
    resolved: int
    service_level: float | None
    asa_s: float | None
    aht_s: float | None
    abandonment_rate: float | None
    occupancy: float | None
    fcr: float | None


class ReportOut(Schema):
    start: dt.datetime
    end: dt.datetime
    group: str
    interval: str
    answer_s: int
    variant: str
    short_abandon_s: int
    rows: list[RowOut]
    total: RowOut


def row_out(row: kpi.Row) -> dict[str, Any]:
    key = row.key.isoformat() if isinstance(row.key, dt.datetime) else row.key
    return {"key": key, "label": str(row.label), **row.figures()}


@router.get(
    "",
    response={200: ReportOut, 403: Message},
    summary="Contact-centre KPIs per queue, operator or interval",
    description=(
        "Inbound calls started in [from, to] (local days). Service level: answered within "
        "`answer_s` (a wait of exactly T counts) over answered (`variant=answered`) or over "
        "answered + abandons not shorter than `short_abandon_s` (`variant=offered`). Ratios "
        "are 0..1, times in seconds; null when nothing to divide by. Supervisors get every "
        "call, operators their own. Definitions: docs/kpi.md."
    ),
)
def kpi_report(request: HttpRequest, query: Query[KpiQuery]) -> dict[str, Any]:
    known = {f.alias or name for name, f in KpiQuery.model_fields.items()}
    unknown = sorted(set(request.GET) - known)
    if unknown:
        raise field_error(["query", unknown[0][:100]], _("There is no such filter."))
    me = actor(request)
    access.require_calls(me)
    today = timezone.localdate()
    try:
        p = kpi.params(
            query.start or today - dt.timedelta(days=6),
            query.to or today,
            group=query.group,
            interval=query.interval,
            answer_s=query.answer_s,
            variant=query.variant,
            short_abandon_s=query.short_abandon_s,
            queue=query.queue or "",
            operator_id=query.operator_id,
        )
    except ValidationError as exc:
        key, messages = next(iter(field_errors(exc).items()))
        raise field_error(["query", key], " ".join(messages)) from None
    result = kpi.report(me, p)
    return {
        "start": p.start,
        "end": p.end,
        "group": p.group,
        "interval": p.interval,
        "answer_s": p.answer_s,
        "variant": p.variant,
        "short_abandon_s": p.short_abandon_s,
        "rows": [row_out(r) for r in result.rows],
        "total": row_out(result.total),
    }
