"""/api/v1/tasks and /api/v1/calendar. Thin: ids in bodies resolve within what the user may
see (else 422 naming the field), records through get_or_404; services do every write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from kartoteka.accounts.models import User
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
from kartoteka.planner import agenda, ical, queries, services
from kartoteka.planner import team_report as report
from kartoteka.planner.models import CalendarFeed, Task
from kartoteka.planner.schemas import (
    CalendarQuery,
    CancelIn,
    DoneIn,
    EventList,
    PostponeIn,
    TaskFields,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskPatch,
    TaskQuery,
    Versioned,
    task_out,
)
from kartoteka.planner.services import Targets
from kartoteka.sales.queries import visible_deals

tasks_router = Router(tags=["tasks"])
calendar_router = Router(tags=["calendar"])
RENAMED = {
    "assignee": "assignee_id",
    "clients": "client_ids",
    "deals": "deal_ids",
    "participants": "participant_ids",
}
ERRORS: dict[int, Any] = {403: Message, 404: Message}
WRITE = {200: TaskOut, 412: StaleOut, 428: Message, **ERRORS}
T = TypeVar("T")


def _body_loc(key: str) -> list[str | int]:
    return ["body"] if key == "__all__" else ["body", RENAMED.get(key, key)]


def _call(write: Callable[[], T]) -> T:
    """Run a service; its ValidationError as a 422 naming the API's fields (client_ids, …)."""
    return api_call(write, _body_loc)


def _many(rows: QuerySet[Any], ids: list[int], name: str, message: str) -> list[Any]:
    wanted = list(dict.fromkeys(ids))
    found = {r.pk: r for r in rows.filter(pk__in=wanted)}
    if len(found) != len(wanted):
        raise field_error(["body", name], message)
    return [found[pk] for pk in wanted]


def _fields(request: HttpRequest, payload: TaskFields) -> dict[str, Any]:
    sent = payload.model_fields_set
    plain = set(services.FIELDS) - {"assignee"}
    fields = {name: getattr(payload, name) for name in plain & sent}
    if "assignee_id" in sent:
        users = User.objects.filter(is_active=True)
        found = _many(users, [payload.assignee_id or 0], "assignee_id", _("There is no such user."))
        fields["assignee"] = found[0]
    return fields


def _targets(request: HttpRequest, payload: TaskFields, task: Task | None = None) -> Targets | None:
    sent, me = payload.model_fields_set, actor(request)
    if not {"client_ids", "deal_ids"} & sent:
        return None
    clients = list(visible_clients(me).filter(task_links__task=task)) if task else []
    deals = list(visible_deals(me).filter(task_links__task=task)) if task else []
    if "client_ids" in sent:
        clients = _many(
            visible_clients(me),
            payload.client_ids or [],
            "client_ids",
            _("There is no such client."),
        )
    if "deal_ids" in sent:
        deals = _many(
            visible_deals(me), payload.deal_ids or [], "deal_ids", _("There is no such deal.")
        )
    return Targets(clients, deals)


def _participants(payload: TaskFields) -> list[User] | None:
    if "participant_ids" not in payload.model_fields_set:
        return None
    users = User.objects.filter(is_active=True)
    return _many(
        users, payload.participant_ids or [], "participant_ids", _("There is no such user.")
    )


def _card(
    request: HttpRequest, pk: int, response: HttpResponse, written: bool = False
) -> dict[str, Any]:
    rows = Task.objects.select_related("assignee", "created_by").prefetch_related(
        "links", "participants"
    )
    task = rows.get(pk=pk) if written else get_or_404(actor(request), Action.VIEW, rows, pk=pk)
    response["ETag"] = f'"{task.version}"'
    return task_out(task, list(queries.history(task)))


def _editable(
    request: HttpRequest, pk: int, if_match: str | None, version: int | None
) -> tuple[User, Task, int]:
    me = actor(request)
    task = get_or_404(me, Action.EDIT, Task.objects.all(), pk=pk)
    expected = expected_version(if_match, version)
    if expected != task.version:
        raise StaleVersion(task.version)
    return me, task, expected


def _filters(request: HttpRequest, filters: TaskQuery) -> dict[str, Any]:
    unknown = sorted(set(request.GET) - set(TaskQuery.model_fields))
    if unknown:
        raise field_error(["query", unknown[0][:100]], _("There is no such filter."))
    assignee: int | None = None
    if filters.assignee == "me":
        assignee = actor(request).pk
    elif filters.assignee is not None:
        if not filters.assignee.isdigit() or not 1 <= int(filters.assignee) < 2**62:
            raise field_error(["query", "assignee"], _("Send a user id or me."))
        assignee = int(filters.assignee)
    for name, allowed in (
        ("when", queries.WHEN),
        ("status", (*Task.Status.values, "active")),
        ("kind", Task.Kind.values),
    ):
        value = getattr(filters, name)
        if value and value not in allowed:
            raise field_error(
                ["query", name], _("Send one of: %(values)s.") % {"values": ", ".join(allowed)}
            )
    return {
        "when_": filters.when or "",
        "status": filters.status or "",
        "kind": filters.kind or "",
        "assignee": assignee,
        "client": filters.client_id,
        "deal": filters.deal_id,
    }


# --- tasks ------------------------------------------------------------------------------------


@tasks_router.get("", response=TaskPage, summary="List tasks, soonest due first")
def list_tasks(request: HttpRequest, filters: Query[TaskQuery]) -> dict[str, Any]:
    me = actor(request)
    rows = queries.filter_tasks(queries.visible_tasks(me), **_filters(request, filters))
    rows = rows.select_related("assignee", "created_by").prefetch_related("links", "participants")
    page = with_cursor(lambda: keyset_page(rows, "due_at", False, filters.cursor, filters.limit))
    return {"items": [task_out(t) for t in page.rows], "next_cursor": page.next_cursor}


@tasks_router.post("", response={201: TaskOut, **ERRORS}, summary="Create a task")
def create_task(
    request: HttpRequest, payload: TaskIn, response: HttpResponse
) -> tuple[int, dict[str, Any]]:
    me = actor(request)
    require(me, Action.CREATE, Task)
    fields = _fields(request, payload)
    targets = _targets(request, payload) or Targets()
    participants = _participants(payload) or []
    task = _call(
        lambda: services.create_task(me, fields, targets=targets, participants=participants)
    )
    return 201, _card(request, task.pk, response, written=True)


@tasks_router.get("/{task_id}", response={200: TaskOut, **ERRORS}, summary="Read a task")
def read_task(request: HttpRequest, task_id: int, response: HttpResponse) -> dict[str, Any]:
    return _card(request, task_id, response)


@tasks_router.patch(
    "/{task_id}",
    response=WRITE,
    summary="Change a task",
    description="Needs If-Match or `version`: 428 without, 412 when stale.",
)
def patch_task(
    request: HttpRequest,
    task_id: int,
    payload: TaskPatch,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    me, task, expected = _editable(request, task_id, if_match, payload.version)
    fields = _fields(request, payload)
    targets = _targets(request, payload, task)
    participants = _participants(payload)
    _call(
        lambda: services.update_task(
            me, task, expected, fields, targets=targets, participants=participants
        )
    )
    return _card(request, task_id, response, written=True)


@tasks_router.post("/{task_id}/done", response=WRITE, summary="Mark a task done, with its result")
def done_task(
    request: HttpRequest,
    task_id: int,
    payload: DoneIn,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    me, task, expected = _editable(request, task_id, if_match, payload.version)
    _call(lambda: services.complete_task(me, task, expected, payload.result))
    return _card(request, task_id, response, written=True)


@tasks_router.post(
    "/{task_id}/postpone", response=WRITE, summary="Postpone a task to a new date, with a reason"
)
def postpone_task(
    request: HttpRequest,
    task_id: int,
    payload: PostponeIn,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    me, task, expected = _editable(request, task_id, if_match, payload.version)
    _call(lambda: services.postpone_task(me, task, expected, payload.due_at, payload.reason))
    return _card(request, task_id, response, written=True)


@tasks_router.post("/{task_id}/cancel", response=WRITE, summary="Cancel a task")
def cancel_task(
    request: HttpRequest,
    task_id: int,
    payload: CancelIn,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    me, task, expected = _editable(request, task_id, if_match, payload.version)
    _call(lambda: services.cancel_task(me, task, expected, payload.reason))
    return _card(request, task_id, response, written=True)


@tasks_router.post("/{task_id}/reopen", response=WRITE, summary="Reopen a done or cancelled task")
def reopen_task(
    request: HttpRequest,
    task_id: int,
    payload: Versioned,
    response: HttpResponse,
    if_match: str | None = IF_MATCH,
) -> dict[str, Any]:
    me, task, expected = _editable(request, task_id, if_match, payload.version)
    _call(lambda: services.reopen_task(me, task, expected))
    return _card(request, task_id, response, written=True)


# --- calendar ---------------------------------------------------------------------------------


@calendar_router.get("", response=EventList, summary="Dated tasks overlapping a range")
def calendar(request: HttpRequest, filters: Query[CalendarQuery]) -> HttpResponse:
    unknown = sorted(set(request.GET) - set(CalendarQuery.model_fields))
    if unknown:
        raise field_error(["query", unknown[0][:100]], _("There is no such filter."))
    try:
        items = agenda.events(actor(request), filters.start, filters.end, filters.user)
    except agenda.RangeError as exc:
        raise field_error(["query", exc.field], exc.message) from None
    # Already in EventList's shape; validating thousands of events again cost more than
    # reading them (a team's week: 5,000 events, ~1 s).
    return agenda.as_json(items)


class FeedOut(Schema):
    active: bool
    hint: str | None = None
    created_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None


class NewFeedOut(Schema):
    url: str
    hint: str


class RevokedOut(Schema):
    revoked: int


@calendar_router.get("/feed", response=FeedOut, summary="The user's iCalendar feed address")
def read_feed(request: HttpRequest) -> dict[str, Any]:
    """Whether a feed address is in force (its secret is never shown again)."""
    feed = CalendarFeed.objects.filter(user=actor(request), revoked_at__isnull=True).first()
    if feed is None:
        return {"active": False}
    return {
        "active": True,
        "hint": feed.hint,
        "created_at": feed.created_at,
        "last_used_at": feed.last_used_at,
    }


@calendar_router.post(
    "/feed",
    response={201: NewFeedOut},
    summary="Make a new secret iCalendar feed address",
    description="The address is shown once; the previous one stops working.",
)
def new_feed(request: HttpRequest) -> tuple[int, dict[str, Any]]:
    feed, key = ical.new_feed(actor(request))
    url = request.build_absolute_uri(reverse("planner:ical", args=[key]))
    return 201, {"url": url, "hint": feed.hint}


@calendar_router.delete("/feed", response=RevokedOut, summary="Revoke the iCalendar feed address")
def revoke_feed(request: HttpRequest) -> dict[str, Any]:
    return {"revoked": ical.revoke_feeds(actor(request))}


# --- the team report --------------------------------------------------------------------------

report_router = Router(tags=["reports"])


class ReportQuery(Schema):
    start: dt.date
    end: dt.date


class ReportRow(Schema):
    user_id: int | None
    name: str
    done: int
    overdue: int
    postponed: int


class ReportOut(Schema):
    items: list[ReportRow]


@report_router.get("", response=ReportOut, summary="Tasks done, overdue and postponed per person")
def team_report(request: HttpRequest, filters: Query[ReportQuery]) -> dict[str, Any]:
    if filters.end < filters.start or (filters.end - filters.start).days > 366:
        raise field_error(["query", "end"], _("The end must be after the start, within a year."))
    return {"items": report.team_report(actor(request), filters.start, filters.end)}
