"""Planner pages: my tasks, a task's card and forms, the tasks of a client's or deal's card.
Thin: queries read, services write, the permissions engine decides."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.accounts.models import User
from kartoteka.clients.field_rules import hidden_fields
from kartoteka.clients.queries import search_visible, visible_clients
from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.forms import add_service_errors, parse_id
from kartoteka.core.pagination import BadCursor, keyset_page
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor
from kartoteka.planner import queries, services
from kartoteka.planner.forms import CancelForm, DoneForm, PostponeForm, TaskFilter, TaskForm
from kartoteka.planner.models import Task
from kartoteka.planner.services import Targets
from kartoteka.sales.queries import visible_deals

PAGE = settings.LIST_PAGE_SIZE
CARD_TASKS = 10


def _task(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> Task:
    rows = Task.objects.select_related("assignee", "created_by")
    return permissions.get_or_404(actor(request), action, rows, pk=pk)


def _ids(values: list[str]) -> list[int]:
    return [pk for pk in (parse_id(v) for v in values[:20]) if pk is not None]


def _targets(request: HttpRequest, data: Any) -> Targets:
    """The clients and deals named in the request, within what the user may see."""
    user = actor(request)
    clients = list(visible_clients(user).filter(pk__in=_ids(data.getlist("clients"))))
    deals = list(visible_deals(user).filter(pk__in=_ids(data.getlist("deals"))))
    return Targets(clients, deals)


def _mark(user: User, tasks: list[Task]) -> list[Task]:
    now = timezone.now()
    for task in tasks:
        task.overdue = task.is_active and task.due_at is not None and task.due_at < now  # type: ignore[attr-defined]
        task.editable = permissions.can(user, Action.EDIT, task)  # type: ignore[attr-defined]
    return tasks


# --- lists ------------------------------------------------------------------------------------


@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    """My tasks (and, with the rights, colleagues'): filters, soonest due first, keyset pages."""
    user = actor(request)
    users = queries.users_in_scope(user)
    form = TaskFilter(request.GET, users=users)
    arguments = form.arguments()
    if arguments["assignee"] is None and "assignee" not in request.GET:
        arguments["assignee"] = user.pk
    rows = queries.for_list(queries.filter_tasks(queries.visible_tasks(user), **arguments))
    try:
        page = keyset_page(rows, "due_at", False, request.GET.get("cursor") or None, PAGE)
    except BadCursor:
        return HttpResponse(_("This link is out of date; reload the list."), status=400)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "form": form,
        "tasks": _mark(user, page.rows),
        "next_cursor": page.next_cursor,
        "query": query.urlencode(),
        "can_create": permissions.can(user, Action.CREATE, Task),
    }
    more = bool(getattr(request, "htmx", False)) and bool(request.GET.get("cursor"))
    name = "planner/_task_rows.html" if more else "planner/list.html"
    return render(request, name, context)


def _card_tasks(request: HttpRequest, user: User, tasks: Any, new_query: str) -> HttpResponse:
    context = {
        "tasks": _mark(user, list(tasks[:CARD_TASKS])),
        "new_query": new_query,
        "can_create": permissions.can(user, Action.CREATE, Task),
    }
    return render(request, "planner/_card_tasks.html", context)


@require_GET
def client_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    """The tasks section of a client's card (loaded by htmx)."""
    user = actor(request)
    client = permissions.get_or_404(user, Action.VIEW, visible_clients(user), pk=pk)
    return _card_tasks(request, user, queries.tasks_of(user, client=client), f"clients={pk}")


@require_GET
def deal_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    """The tasks section of a deal's card (loaded by htmx)."""
    user = actor(request)
    deal = permissions.get_or_404(user, Action.VIEW, visible_deals(user), pk=pk)
    return _card_tasks(request, user, queries.tasks_of(user, deal=deal), f"deals={pk}")


@require_GET
def target_search(request: HttpRequest) -> HttpResponse:
    """Clients (and their deals) to link a task to: a search among those the user may see."""
    user = actor(request)
    query = request.GET.get("target_q", "")[:200]
    clients: list[Any] = []
    deals: list[Any] = []
    if len(query.strip()) >= 2:
        visible = visible_clients(user)
        clients = list(search_visible(visible, query, hidden_fields(user))[:10])
    if clients:
        deals = list(
            visible_deals(user)
            .filter(client__in=[c.pk for c in clients])
            .select_related("client")
            .order_by("-id")[:20]
        )
    context = {"found_clients": clients, "found_deals": deals, "query": query}
    return render(request, "planner/_target_choices.html", context)


# --- a task -----------------------------------------------------------------------------------


def _form_context(request: HttpRequest, form: TaskForm, targets: Targets) -> dict[str, Any]:
    return {"form": form, "clients": targets.clients, "deals": targets.deals}


@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    permissions.require(user, Action.CREATE, Task)
    data = request.POST if request.method == "POST" else request.GET
    targets = _targets(request, data)
    if request.method == "GET":
        form = TaskForm(
            initial={
                "assignee": user.pk,
                "clients": [c.pk for c in targets.clients],
                "deals": [d.pk for d in targets.deals],
            }
        )
        return render(request, "planner/edit.html", _form_context(request, form, targets))
    form = TaskForm(request.POST)
    if form.is_valid():
        try:
            task = services.create_task(
                user,
                form.service_fields(),
                targets=targets,
                participants=form.cleaned_data["participants"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The task is created."))
            return redirect("planner:task", task.pk)
    return render(request, "planner/edit.html", _form_context(request, form, targets), status=422)


@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    task = _task(request, pk, Action.EDIT)
    if request.method == "GET":
        initial = {name: getattr(task, name) for name in TaskForm.SERVICE_FIELDS}
        initial["participants"] = list(task.participants.all())
        links = list(task.links.all())
        targets = Targets(
            list(visible_clients(user).filter(pk__in=[k.client_id for k in links if k.client_id])),
            list(visible_deals(user).filter(pk__in=[k.deal_id for k in links if k.deal_id])),
        )
        initial["clients"] = [c.pk for c in targets.clients]
        initial["deals"] = [d.pk for d in targets.deals]
        context = _form_context(request, TaskForm(initial=initial), targets)
        return render(request, "planner/edit.html", {**context, "task": task})
    form = TaskForm(request.POST)
    targets = _targets(request, request.POST)
    version = parse_id(request.POST.get("version")) or 0
    if form.is_valid():
        try:
            services.update_task(
                user,
                task,
                version,
                form.service_fields(),
                targets=targets,
                participants=form.cleaned_data["participants"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except StaleVersion:
            form.add_error(
                None, _("Someone else changed this task; reload it and apply your change again.")
            )
        else:
            messages.success(request, _("The task is saved."))
            return redirect("planner:task", task.pk)
    context = _form_context(request, form, targets)
    return render(request, "planner/edit.html", {**context, "task": task}, status=422)


def _card_context(request: HttpRequest, task: Task, **forms: Any) -> dict[str, Any]:
    user = actor(request)
    links = list(task.links.all())
    _mark(user, [task])
    return {
        "task": task,
        "clients": list(
            visible_clients(user).filter(pk__in=[k.client_id for k in links if k.client_id])
        ),
        "deals": list(
            visible_deals(user)
            .filter(pk__in=[k.deal_id for k in links if k.deal_id])
            .select_related("client")
        ),
        "participants": list(task.participants.all()),
        "history": list(queries.history(task)),
        "can_edit": permissions.can(user, Action.EDIT, task),
        "done_form": forms.get("done_form") or DoneForm(prefix="done"),
        "postpone_form": forms.get("postpone_form") or PostponeForm(prefix="postpone"),
        "cancel_form": forms.get("cancel_form") or CancelForm(prefix="cancel"),
    }


@require_GET
def card(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "planner/card.html", _card_context(request, _task(request, pk)))


def _status_write(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    user = actor(request)
    task = _task(request, pk)
    if not permissions.can(user, Action.EDIT, task):
        raise permissions.Denied(Action.EDIT)
    version = parse_id(request.POST.get("version")) or 0
    forms: dict[str, Any] = {
        "done": DoneForm(request.POST, prefix="done"),
        "postpone": PostponeForm(request.POST, prefix="postpone"),
        "cancel": CancelForm(request.POST, prefix="cancel"),
        "reopen": None,
    }
    form = forms[verb]
    if form is None or form.is_valid():
        data = form.cleaned_data if form is not None else {}
        try:
            if verb == "done":
                services.complete_task(user, task, version, data["result"])
            elif verb == "postpone":
                services.postpone_task(user, task, version, data["due_at"], data["reason"])
            elif verb == "cancel":
                services.cancel_task(user, task, version, data["reason"])
            else:
                services.reopen_task(user, task, version)
        except ValidationError as exc:
            if form is None:
                messages.error(request, " ".join(exc.messages))
                return redirect("planner:task", pk)
            add_service_errors(form, exc)
        except StaleVersion:
            messages.error(request, _("Someone else changed this task; look at it again."))
            return redirect("planner:task", pk)
        else:
            return redirect("planner:task", pk)
    context = _card_context(request, task, **{f"{verb}_form": form})
    return render(request, "planner/card.html", {**context, "open_form": verb}, status=422)


@require_POST
def done(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_write(request, pk, "done")


@require_POST
def postpone(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_write(request, pk, "postpone")


@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_write(request, pk, "cancel")


@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_write(request, pk, "reopen")
