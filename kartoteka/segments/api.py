"""/api/v1/segments and /api/v1/analytics: segments, their clients and exports; classes.

Thin: records through get_or_404-style lookups (404 for what the user may not see), services do
every write, rule errors are 422 naming the condition (`["body", "rules", "conditions", 0,
"value"]`). Counts and client pages only cover clients the user may see.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from kartoteka.clients.models import Client
from kartoteka.clients.queries import visible_clients
from kartoteka.clients.schemas import IF_MATCH, Message, Strict, expected_version, with_cursor
from kartoteka.core import permissions
from kartoteka.core.pagination import keyset_page
from kartoteka.core.permissions import Action, get_or_404
from kartoteka.core.views import actor
from kartoteka.segments import queries, rules, services
from kartoteka.segments.config import current
from kartoteka.segments.models import AnalyticsConfig, Segment
from kartoteka.transfer import services as exports

segments_router = Router(tags=["segments"])
analytics_router = Router(tags=["analytics"])
ERRORS: dict[int, Any] = {403: Message, 404: Message}


class SegmentIn(Strict):
    name: str = Field(max_length=100)
    kind: str = Field("dynamic", description="dynamic (rules) or static (a list of clients)")
    rules: dict[str, Any] | None = Field(None, description="See docs/analytics.md.")
    shared: bool = False


class SegmentPatch(Strict):
    name: str | None = Field(None, max_length=100)
    rules: dict[str, Any] | None = None
    shared: bool | None = None
    version: int | None = Field(None, ge=1)


class SegmentOut(Schema):
    id: int
    name: str
    kind: str
    rules: dict[str, Any]
    shared: bool
    version: int
    created_by: int
    may_change: bool


class RulesIn(Strict):
    rules: dict[str, Any]


class MembersIn(Strict):
    add: list[int] = Field(default_factory=list, max_length=1000)
    remove: list[int] = Field(default_factory=list, max_length=1000)


class ExportIn(Strict):
    format: str = Field("csv", description="csv, xlsx or vcf")


class ExportOut(Schema):
    id: int
    status: str
    rows: int


class CountOut(Schema):
    count: int


class ClientRef(Schema):
    id: int
    name: str
    kind: str


class ClientPage(Schema):
    items: list[ClientRef]
    next_cursor: str | None


class PageQuery(Strict):
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


def _out(segment: Segment, user: Any) -> dict[str, Any]:
    return {
        "id": segment.pk,
        "name": segment.name,
        "kind": segment.kind,
        "rules": segment.rules,
        "shared": segment.shared,
        "version": segment.version,
        "created_by": segment.created_by_id,
        "may_change": queries.may_change(user, segment),
    }


def _segment(request: HttpRequest, pk: int) -> Segment:
    return queries.segment_or_404(actor(request), pk)


def _changeable(request: HttpRequest, pk: int) -> Segment:
    return queries.changeable_segment(actor(request), pk)


@segments_router.get("", response=list[SegmentOut])
def list_segments(request: HttpRequest) -> list[dict[str, Any]]:
    me = actor(request)
    return [_out(s, me) for s in queries.visible_segments(me)[:500]]


@segments_router.get("/fields", response=list[dict[str, Any]])
def fields(request: HttpRequest) -> list[dict[str, Any]]:
    """The fields and operators rules may use (custom fields the user may see included)."""
    return rules.catalogue(actor(request))


@segments_router.post("/preview", response=CountOut)
def preview(request: HttpRequest, payload: RulesIn) -> dict[str, int]:
    """How many of the clients you may see the rules select, without saving them."""
    me = actor(request)
    condition = rules.compile_rules(payload.rules, me)
    return {"count": visible_clients(me).filter(condition).count()}


@segments_router.post("", response={201: SegmentOut, **ERRORS})
def create_segment(request: HttpRequest, payload: SegmentIn) -> tuple[int, dict[str, Any]]:
    me = actor(request)
    segment = services.create(
        me, name=payload.name, kind=payload.kind, rules=payload.rules, shared=payload.shared
    )
    return 201, _out(segment, me)


@segments_router.get("/{int:pk}", response={200: SegmentOut, **ERRORS})
def get_segment(request: HttpRequest, pk: int, response: HttpResponse) -> dict[str, Any]:
    segment = _segment(request, pk)
    response["ETag"] = f'"{segment.version}"'
    return _out(segment, actor(request))


@segments_router.patch("/{int:pk}", response={200: SegmentOut, **ERRORS})
def patch_segment(
    request: HttpRequest, pk: int, payload: SegmentPatch, if_match: str | None = IF_MATCH
) -> dict[str, Any]:
    segment = _changeable(request, pk)
    version = expected_version(if_match, payload.version)
    sent = payload.model_fields_set
    changed = services.update(
        actor(request),
        segment,
        version,
        name=payload.name if "name" in sent else None,
        rules=payload.rules if "rules" in sent else None,
        shared=payload.shared if "shared" in sent else None,
    )
    return _out(changed, actor(request))


@segments_router.delete("/{int:pk}", response={204: None, **ERRORS})
def delete_segment(request: HttpRequest, pk: int) -> tuple[int, None]:
    services.delete(actor(request), _changeable(request, pk))
    return 204, None


@segments_router.get("/{int:pk}/count", response={200: CountOut, **ERRORS})
def count_segment(request: HttpRequest, pk: int) -> dict[str, int]:
    return {"count": queries.count(_segment(request, pk), actor(request))}


@segments_router.get("/{int:pk}/clients", response={200: ClientPage, **ERRORS})
def segment_clients(request: HttpRequest, pk: int, page: Query[PageQuery]) -> dict[str, Any]:
    me = actor(request)
    rows = queries.clients_of(_segment(request, pk), me).only("id", "name", "kind")
    found = with_cursor(lambda: keyset_page(rows, "name", False, page.cursor, page.limit))
    return {
        "items": [{"id": c.pk, "name": c.name, "kind": c.kind} for c in found.rows],
        "next_cursor": found.next_cursor,
    }


@segments_router.post("/{int:pk}/members", response={200: dict[str, int], **ERRORS})
def change_members(request: HttpRequest, pk: int, payload: MembersIn) -> dict[str, int]:
    return services.change_members(
        actor(request), _changeable(request, pk), payload.add, payload.remove
    )


@segments_router.post("/{int:pk}/export", response={201: ExportOut, **ERRORS})
def export_segment(request: HttpRequest, pk: int, payload: ExportIn) -> tuple[int, dict[str, Any]]:
    """Export the segment through the export pipeline: daily limit, approval, field rules,
    audit. Download it at /api/v1/exports/{id}/download once approved."""
    segment = _segment(request, pk)
    export = exports.request_export(actor(request), f"segment={segment.pk}", payload.format)
    return 201, {"id": export.pk, "status": export.status, "rows": export.rows}


# --- classes -----------------------------------------------------------------------------------


class ChangeOut(Schema):
    measure: str
    old: str
    new: str
    at: str


class ClassesOut(Schema):
    client_id: int
    abc: str
    xyz: str
    rfm: str
    cycle: str
    revenue: Decimal
    currency: str
    purchases: int
    cv: float | None
    periods: int
    history: list[ChangeOut]


@analytics_router.get("/clients/{int:pk}", response={200: ClassesOut, **ERRORS})
def client_classes(request: HttpRequest, pk: int) -> dict[str, Any]:
    """A client's current ABC, XYZ, RFM and contact-cycle stage, and how they changed."""
    client = get_or_404(actor(request), Action.VIEW, Client.objects.all(), pk=pk)
    found = queries.card_analytics(client)
    now = found["current"]
    return {
        "client_id": client.pk,
        "abc": now.abc if now else "",
        "xyz": now.xyz if now else "",
        "rfm": now.rfm if now else "",
        "cycle": now.cycle if now else "",
        "revenue": now.revenue if now else Decimal(0),
        "currency": current().currency,
        "purchases": now.purchases if now else 0,
        "cv": now.cv if now else None,
        "periods": now.periods if now else 0,
        "history": [
            {"measure": c.measure, "old": c.old, "new": c.new, "at": c.at.isoformat()}
            for c in found["history"]
        ],
    }


class ConfigOut(Schema):
    currency: str
    months: int
    abc_a: Decimal
    abc_b: Decimal
    abc_rule: str
    xyz_x: Decimal
    xyz_y: Decimal
    xyz_min_periods: int
    at_risk_days: int
    lost_days: int
    repeat_purchases: int
    loyal_purchases: int
    prospect_days: int
    version: int
    computed_at: str | None
    last_run: dict[str, Any]


class ConfigIn(Strict):
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    months: int | None = Field(None, ge=1, le=60)
    abc_a: Decimal | None = Field(None, gt=0, le=100)
    abc_b: Decimal | None = Field(None, gt=0, le=100)
    abc_rule: str | None = None
    xyz_x: Decimal | None = Field(None, ge=0, le=1000)
    xyz_y: Decimal | None = Field(None, ge=0, le=1000)
    xyz_min_periods: int | None = Field(None, ge=2, le=60)
    at_risk_days: int | None = Field(None, ge=1, le=3650)
    lost_days: int | None = Field(None, ge=1, le=3650)
    repeat_purchases: int | None = Field(None, ge=2, le=1000)
    loyal_purchases: int | None = Field(None, ge=2, le=1000)
    prospect_days: int | None = Field(None, ge=1, le=3650)
    version: int | None = Field(None, ge=1)


def _config_out(config: AnalyticsConfig) -> dict[str, Any]:
    fields = [f.name for f in AnalyticsConfig._meta.fields if f.name not in ("id", "computed_at")]
    out = {name: getattr(config, name) for name in fields}
    out["computed_at"] = config.computed_at.isoformat() if config.computed_at else None
    return out


@analytics_router.get("/settings", response={200: ConfigOut, **ERRORS})
def get_settings(request: HttpRequest) -> dict[str, Any]:
    permissions.require(actor(request), Action.CONFIGURE)
    return _config_out(current())


@analytics_router.patch("/settings", response={200: ConfigOut, **ERRORS})
def patch_settings(
    request: HttpRequest, payload: ConfigIn, if_match: str | None = IF_MATCH
) -> dict[str, Any]:
    from kartoteka.segments import settings_service

    me = actor(request)
    permissions.require(me, Action.CONFIGURE)
    version = expected_version(if_match, payload.version)
    values = payload.model_dump(exclude_unset=True, exclude={"version"})
    return _config_out(settings_service.configure(me, version, values))


@analytics_router.post("/recompute", response={202: dict[str, str], **ERRORS})
def recompute_now(request: HttpRequest) -> tuple[int, dict[str, str]]:
    """Queue a recompute of every client's classes (administrators)."""
    from kartoteka.segments import settings_service

    settings_service.queue_recompute(actor(request))
    return 202, {"status": "queued"}


# --- dashboards ----------------------------------------------------------------------------------


class DashboardQuery(Strict):
    from_month: str | None = Field(None, alias="from", max_length=7, pattern=r"^\d{4}-\d{2}$")
    to: str | None = Field(None, max_length=7, pattern=r"^\d{4}-\d{2}$")
    owner: int | None = Field(None, ge=1)


class CellOut(Schema):
    value: Any
    link: str | None


class ChartOut(Schema):
    key: str
    title: str
    kind: str
    labels: list[str]
    series: list[dict[str, Any]]
    header: list[str]
    rows: list[list[CellOut]]


class DashboardOut(Schema):
    page: str
    start: str
    end: str
    computed_at: str | None
    charts: list[ChartOut]


@analytics_router.get("/dashboards/{page}", response={200: DashboardOut, **ERRORS})
def dashboard(request: HttpRequest, page: str, query: Query[DashboardQuery]) -> dict[str, Any]:
    """A dashboard's charts as data: labels, series, and the table with each cell's drill-down
    (a query string for /api/v1/persons or the client list). Pages: overview, classes, cycle,
    cohorts, conversion, managers. Figures cover the owners whose clients you may see."""
    from ninja.errors import ValidationError as NinjaValidationError

    from kartoteka.segments import access, charts, dashboards

    me = actor(request)
    access.require(me)
    if page not in charts.PAGES:
        raise Http404
    values = {"from": query.from_month, "to": query.to, "owner": query.owner}
    filters = dashboards.build_filters(me, {k: v for k, v in values.items() if v is not None})
    if filters.errors:
        key, messages = next(iter(filters.errors.items()))
        raise NinjaValidationError(
            [{"loc": ["query", key], "msg": " ".join(messages), "type": "value_error"}]
        )
    config = current()
    shown = [build(me, filters) for build in charts.PAGES[page][1]]
    return {
        "page": page,
        "start": filters.keys[0],
        "end": filters.keys[1],
        "computed_at": config.computed_at.isoformat() if config.computed_at else None,
        "charts": [
            {
                **chart.as_json(),
                "key": chart.key,
                "title": chart.title,
                "header": chart.header,
                "rows": [
                    [{"value": dashboards.plain(c.value), "link": c.link} for c in row]
                    for row in chart.rows
                ],
            }
            for chart in shown
        ],
    }
