"""The calendar page (FullCalendar), its events as JSON, and drag-to-reschedule."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion, field_errors
from kartoteka.core.forms import parse_id
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor
from kartoteka.planner import agenda, queries, services
from kartoteka.planner.models import Task


@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    context = {"users": queries.users_in_scope(user), "can_team": True}
    return render(request, "planner/calendar.html", context)


def _moment(value: str | None) -> dt.datetime | None:
    try:
        parsed = parse_datetime((value or "").replace(" ", "+"))
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def _error(field: str, message: str, status: int = 422) -> JsonResponse:
    return JsonResponse({"detail": [{"loc": [field], "msg": message}]}, status=status)


@require_GET
def events(request: HttpRequest) -> HttpResponse:
    """FullCalendar's event source: ?start=…&end=…&user=me|team|<id>."""
    start, end = _moment(request.GET.get("start")), _moment(request.GET.get("end"))
    if start is None or end is None:
        return _error("start", _("Send start and end as ISO 8601 times with a UTC offset."))
    try:
        items = agenda.events(actor(request), start, end, request.GET.get("user", "me")[:20])
    except agenda.RangeError as exc:
        return _error(exc.field, exc.message)
    return agenda.as_json(items)


@require_POST
def move(request: HttpRequest) -> JsonResponse:
    """A dragged or resized event: id, version, start and end; 409 when someone changed it."""
    user = actor(request)
    task = permissions.get_or_404(
        user, Action.VIEW, Task.objects.all(), pk=parse_id(request.POST.get("id")) or 0
    )
    if not permissions.can(user, Action.EDIT, task):
        return _error("id", _("You may not change this task."), status=403)
    start, end = _moment(request.POST.get("start")), _moment(request.POST.get("end"))
    if start is None:
        return _error("start", _("Send the new start time."))
    minutes = int((end - start).total_seconds() // 60) if end is not None else None
    try:
        moved = services.reschedule_task(
            user, task, parse_id(request.POST.get("version")) or 0, start, minutes
        )
    except StaleVersion as exc:
        return JsonResponse(
            {
                "detail": _("Someone else changed this task; the calendar is reloaded."),
                "version": exc.current_version,
            },
            status=409,
        )
    except ValidationError as exc:
        errors = field_errors(exc)
        return JsonResponse(
            {"detail": [{"loc": [k], "msg": " ".join(v)} for k, v in errors.items()]}, status=422
        )
    return JsonResponse({"id": moved.pk, "version": moved.version}, encoder=DjangoJSONEncoder)
