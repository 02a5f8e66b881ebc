"""/api/v1/pipelines and /api/v1/deals: pipelines, deals, their moves and history.

Thin: ids in bodies resolve within what the user may see (else 422 naming the field), records
through get_or_404 (404 for what the user may not see or change); services do every write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client
from kartoteka.clients.queries import visible_clients
from kartoteka.clients.schemas import (
    IF_MATCH,
    Message,
    StaleOut,
    expected_version,
    field_error,
    with_cursor,
)
from kartoteka.core.errors import StaleVersion, api_call
from kartoteka.core.pagination import keyset_page
from kartoteka.core.permissions import Action, get_or_404, require
from kartoteka.core.views import actor
from kartoteka.sales import queries, services
from kartoteka.sales.models import Deal, LossReason, Pipeline, Stage
from kartoteka.sales.schemas import (
    DealFields,
    DealIn,
    DealOut,
    DealPage,
    DealPatch,
    DealQuery,
    MoveIn,
    PipelineList,
    Requirable,
    deal_out,
)

pipelines_router = Router(tags=["pipelines"])
deals_router = Router(tags=["deals"])

# Service error keys -> body fields of the API.
RENAMED = {
    "client": "client_id",
    "owner": "owner_id",
    "contacts": "contact_ids",
    "stage": "stage_id",
    "pipeline": "pipeline_id",
    "loss_reason": "loss_reason_id",
}
ERRORS: dict[int, Any] = {403: Message, 404: Message}
T = TypeVar("T")


def _cards(user: User, rows: QuerySet[Deal]) -> QuerySet[Deal]:
    contacts = visible_clients(user).order_by("pk")
    return rows.select_related("stage", "client", "owner", "loss_reason").prefetch_related(
        Prefetch("contacts", queryset=contacts)
    )


def _card(
    request: HttpRequest, pk: int, response: HttpResponse, written: bool = False
) -> dict[str, Any]:
    """The deal with its history; after a write, even if the user gave it out of their sight."""
    me = actor(request)
    rows = _cards(me, Deal.objects.all())
    deal = rows.get(pk=pk) if written else get_or_404(me, Action.VIEW, rows, pk=pk)
    response["ETag"] = f'"{deal.version}"'
    return deal_out(deal, list(queries.history(deal)))


# --- input ------------------------------------------------------------------------------------


def _call(write: Callable[[], T]) -> T:
    """Run a service; its ValidationError as a 422 naming the API's fields (contact_ids, …)."""
    return api_call(write, _body_loc)


def _body_loc(key: str) -> list[str | int]:
    return ["body"] if key == "__all__" else ["body", RENAMED.get(key, key)]


def _one(rows: QuerySet[Any], pk: int, name: str, message: str) -> Any:
    found = rows.filter(pk=pk).first()
    if found is None:
        raise field_error(["body", name], message)
    return found


def _references(request: HttpRequest, payload: DealFields) -> dict[str, Any]:
    """The body's fields for the services, its ids resolved within what the user may see."""
    me, sent = actor(request), payload.model_fields_set
    plain = {"title", "amount", "currency", "expected_close", "source", "next_step"}
    fields = {name: getattr(payload, name) for name in plain & sent}
    if "client_id" in sent:
        if payload.client_id is None:
            raise field_error(["body", "client_id"], _("Choose a client you may see."))
        fields["client"] = _one(
            visible_clients(me), payload.client_id, "client_id", _("There is no such client.")
        )
    if "owner_id" in sent:
        fields["owner"] = None
        if payload.owner_id is not None:
            users = User.objects.filter(is_active=True)
            fields["owner"] = _one(users, payload.owner_id, "owner_id", _("There is no such user."))
    return fields


def _contacts(request: HttpRequest, payload: Requirable) -> list[Client] | None:
    if "contact_ids" not in payload.model_fields_set:
        return None
    wanted = list(dict.fromkeys(payload.contact_ids or []))
    found = {c.pk: c for c in visible_clients(actor(request)).filter(pk__in=wanted)}
    if len(found) != len(wanted):
        raise field_error(["body", "contact_ids"], _("There is no such contact person."))
    return [found[pk] for pk in wanted]


def _editable(
    request: HttpRequest, deal_id: int, if_match: str | None, version: int | None
) -> tuple[User, Deal, int]:
    """The actor, the deal they may change (else 404) and the version their write names."""
    me = actor(request)
    deal = get_or_404(me, Action.EDIT, Deal.objects.all(), pk=deal_id)
    return me, deal, expected_version(if_match, version)


def _query_filters(request: HttpRequest, filters: DealQuery) -> dict[str, Any]:
    """The list's filters; unknown keys (`_connector`, `x__regex`, …) are refused, not ignored."""
    unknown = sorted(set(request.GET) - set(DealQuery.model_fields))
    if unknown:
        raise field_error(["query", unknown[0][:100]], _("There is no such filter."))
    owner: int | str | None = filters.owner
    if filters.owner == "me":
        owner = actor(request).pk
    elif filters.owner is not None and filters.owner != queries.NOBODY:
        if not filters.owner.isdigit() or not 1 <= int(filters.owner) < 2**62:
            raise field_error(["query", "owner"], _("Send a user id, me or none."))
        owner = int(filters.owner)
    if filters.status and filters.status not in Stage.Kind.values:
        raise field_error(["query", "status"], _("Send open, won or lost."))
    return {
        "pipeline": filters.pipeline,
        "stage": filters.stage,
        "owner": owner,
        "client": filters.client_id,
        "status": filters.status or None,
        "q": filters.q or "",
    }


# --- pipelines --------------------------------------------------------------------------------


STAGE_FIELDS = ("id", "name", "position", "probability", "kind", "required_fields")


@pipelines_router.get("", response=PipelineList, summary="Active pipelines and loss reasons")
def list_pipelines(request: HttpRequest) -> dict[str, Any]:
    items = [
        {
            "id": p.pk,
            "name": p.name,
            "position": p.position,
            "stages": [{f: getattr(s, f) for f in STAGE_FIELDS} for s in p.stages.all()],
        }
        for p in queries.pipelines()
    ]
    reasons = [{"id": r.pk, "name": r.name} for r in LossReason.objects.all()]
    return {"items": items, "loss_reasons": reasons}


# --- deals ------------------------------------------------------------------------------------


@deals_router.get("", response=DealPage, summary="List deals, newest first")
def list_deals(request: HttpRequest, filters: Query[DealQuery]) -> dict[str, Any]:
    me = actor(request)
    rows = queries.filter_deals(queries.visible_deals(me), **_query_filters(request, filters))
    page = with_cursor(
        lambda: keyset_page(_cards(me, rows), "id", True, filters.cursor, filters.limit)
    )
    return {"items": [deal_out(d) for d in page.rows], "next_cursor": page.next_cursor}


@deals_router.post("", response={201: DealOut, **ERRORS}, summary="Create a deal")
def create_deal(
    request: HttpRequest, payload: DealIn, response: HttpResponse
) -> tuple[int, dict[str, Any]]:
    me = actor(request)
    require(me, Action.CREATE, Deal)
    fields = {"owner": me, **_references(request, payload)}
    if payload.stage_id is not None:
        fields["stage"] = _one(
            Stage.objects.filter(pipeline__is_active=True),
            payload.stage_id,
            "stage_id",
            _("There is no such stage."),
        )
    if payload.pipeline_id is not None:
        fields["pipeline"] = _one(
            Pipeline.objects.filter(is_active=True),
            payload.pipeline_id,
            "pipeline_id",
            _("There is no such pipeline."),
        )
    elif "stage" in fields:
        fields["pipeline"] = fields["stage"].pipeline
    contacts = _contacts(request, payload) or []
    deal = _call(lambda: services.create_deal(me, fields, contacts=contacts))
    return 201, _card(request, deal.pk, response, written=True)


@deals_router.get("/{deal_id}", response={200: DealOut, **ERRORS}, summary="Read a deal")
def read_deal(request: HttpRequest, deal_id: int, response: HttpResponse) -> dict[str, Any]:
    return _card(request, deal_id, response)


@deals_router.patch(
    "/{deal_id}",
    response={200: DealOut, 412: StaleOut, 428: Message, **ERRORS},
    summary="Change a deal",
    description="Needs If-Match or `version`: 428 without, 412 when stale. "
    "The stage changes through /move only.",
)
def patch_deal(
    request: HttpRequest,
    deal_id: int,
    payload: DealPatch,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    me, deal, expected = _editable(request, deal_id, if_match, payload.version)
    if expected != deal.version:
        raise StaleVersion(deal.version)
    fields = _references(request, payload)
    contacts = _contacts(request, payload)
    _call(lambda: services.update_deal(me, deal, expected, fields, contacts=contacts))
    return _card(request, deal_id, response, written=True)


@deals_router.post(
    "/{deal_id}/move",
    response={200: DealOut, 412: StaleOut, 428: Message, **ERRORS},
    summary="Move a deal to another stage",
    description="422 names each field the stage requires and the body lacks (the deal stays "
    "where it was); 412 when someone moved or changed the deal since it was read.",
)
def move_deal(
    request: HttpRequest,
    deal_id: int,
    payload: MoveIn,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    me, deal, expected = _editable(request, deal_id, if_match, payload.version)
    stage = _one(Stage.objects.all(), payload.stage_id, "stage_id", _("There is no such stage."))
    if expected != deal.version:
        raise StaleVersion(deal.version)
    fields = payload.model_dump(exclude_unset=True, exclude={"stage_id", "version", "contact_ids"})
    if fields.pop("loss_reason_id", None) is not None:
        assert payload.loss_reason_id is not None
        fields["loss_reason"] = _one(
            LossReason.objects.all(),
            payload.loss_reason_id,
            "loss_reason_id",
            _("There is no such loss reason."),
        )
    contacts = _contacts(request, payload)
    _call(lambda: services.move_deal(me, deal, stage, expected, fields, contacts=contacts))
    return _card(request, deal_id, response, written=True)


@deals_router.delete(
    "/{deal_id}",
    response={204: None, 412: StaleOut, **ERRORS},
    summary="Move a deal to the trash",
)
def delete_deal(
    request: HttpRequest, deal_id: int, if_match: str | None = IF_MATCH
) -> tuple[int, None]:
    deal = get_or_404(actor(request), Action.DELETE, Deal.objects.all(), pk=deal_id)
    if if_match is not None and expected_version(if_match, None) != deal.version:
        raise StaleVersion(deal.version)
    services.trash_deal(actor(request), deal)
    return 204, None


@deals_router.post(
    "/{deal_id}/restore",
    response={200: DealOut, **ERRORS},
    summary="Restore a deal from the trash",
)
def restore_deal(request: HttpRequest, deal_id: int, response: HttpResponse) -> dict[str, Any]:
    deal = get_or_404(actor(request), Action.RESTORE, Deal.all_objects.all(), pk=deal_id)
    services.restore_deal(actor(request), deal)
    return _card(request, deal_id, response, written=True)
