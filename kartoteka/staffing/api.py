"""POST /api/v1/calls/staffing: the staffing page's inputs as JSON, its table as JSON rows."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from kartoteka.clients.schemas import Message, Strict
from kartoteka.core.views import actor
from kartoteka.staffing import history
from kartoteka.staffing.planning import MAX_CALLS, MAX_ROWS, Inputs

router = Router(tags=["calls"])
Calls = Annotated[float, Field(ge=0, le=MAX_CALLS, allow_inf_nan=False)]


class StaffingIn(Strict):
    source: Literal["history", "forecast"] = "forecast"
    span: Literal["day", "week"] = "day"
    interval_minutes: Literal[15, 30, 60] = 30
    day_start: int = Field(8, ge=0, le=23)
    day_end: int = Field(20, ge=1, le=24)
    queue: str = Field("", max_length=80)
    weeks: int = Field(4, ge=1, le=26)
    forecast: list[Calls] = Field(default_factory=list, max_length=MAX_ROWS)
    aht_s: float | None = Field(None, gt=0, le=86_400, allow_inf_nan=False)
    target_sl: float | None = Field(None, gt=0, lt=1)
    answer_s: float = Field(20.0, ge=0, le=3600, allow_inf_nan=False)
    target_asa_s: float | None = Field(None, gt=0, le=3600, allow_inf_nan=False)
    shrinkage: float = Field(0.3, ge=0, lt=1)
    max_occupancy: float = Field(0.85, gt=0, le=1)
    patience_s: float | None = Field(None, gt=0, le=86_400, allow_inf_nan=False)


class StaffingRow(Schema):
    interval: str
    calls: float
    aht_s: float
    agents: int
    scheduled_agents: int
    probability_of_wait: float
    service_level: float
    asa_s: float | None = Field(description="null when the queue grows without end")
    occupancy: float
    abandonment: float


class StaffingOut(Schema):
    aht_s: float
    days: int = Field(description="history: days with calls averaged; 0 for a forecast")
    rows: list[StaffingRow]


@router.post(
    "",
    response={200: StaffingOut, 403: Message},
    summary="Agents needed per interval (Erlang C, or Erlang A with patience_s)",
    description=(
        "Volumes from `forecast` (calls per interval) or from history (`source: history`, the "
        "last `weeks` of inbound calls, of `queue` if given). Give `target_sl` (with "
        "`answer_s`) or `target_asa_s`; without either, 0.8 within `answer_s`. Supervisors and "
        "heads only."
    ),
)
def staffing(request: HttpRequest, payload: StaffingIn) -> dict[str, Any]:
    fields = payload.model_dump()
    if fields["target_sl"] is None and fields["target_asa_s"] is None:
        fields["target_sl"] = 0.8
    result = history.plan(actor(request), Inputs(**fields))
    return {"aht_s": result.aht_s, "days": result.days, "rows": result.rows}
