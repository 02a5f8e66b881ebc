"""The ACD pages for supervisors: skills, the operator × skill grid (one cell saved at a time
with htmx), and a queue's routing. Thin: acd_services writes and checks access."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kartoteka.callcenter import access, acd_services
from kartoteka.callcenter.acd_forms import QueueRoutingForm, SkillForm
from kartoteka.callcenter.acd_models import OperatorSkill, QueueRouting, QueueSkill, Skill
from kartoteka.callcenter.acd_services import CellIn, StaleCell
from kartoteka.callcenter.models import Operator, Queue
from kartoteka.core.errors import StaleVersion, field_errors
from kartoteka.core.forms import add_service_errors, clean_text, parse_id
from kartoteka.core.views import actor

MAX_ROWS = 500


def _manager(request: HttpRequest) -> None:
    access.require_routing(actor(request))


def _grid() -> dict[str, Any]:
    """Operators (rows) × skills (columns), each cell its level and version: three queries."""
    skills = list(Skill.objects.all()[:MAX_ROWS])
    operators = list(Operator.objects.select_related("user").order_by("extension")[:MAX_ROWS])
    cells = {(c.operator_id, c.skill_id): c for c in OperatorSkill.objects.all()}
    rows = [
        (op, [_cell(op, skill, cells.get((op.pk, skill.pk))) for skill in skills])
        for op in operators
    ]
    return {"skills": skills, "rows": rows}


def _cell(op: Operator, skill: Skill, row: OperatorSkill | None, **extra: Any) -> dict[str, Any]:
    return {
        "operator": op,
        "skill": skill,
        "level": row.level if row else "",
        "version": row.version if row else 0,
        **extra,
    }


def _queues() -> list[dict[str, Any]]:
    routing = {r.queue_id: r for r in QueueRouting.objects.all()}
    needs: dict[int, list[str]] = {}
    for need in QueueSkill.objects.select_related("skill"):
        needs.setdefault(need.queue_id, []).append(f"{need.skill.name} ≥ {need.min_level}")
    strategies = dict(QueueRouting.STRATEGIES)
    return [
        {
            "queue": q,
            "strategy": strategies[routing[q.pk].strategy] if q.pk in routing else None,
            "needs": needs.get(q.pk, []),
        }
        for q in Queue.objects.all()[:MAX_ROWS]
    ]


def _page(request: HttpRequest, skill_form: SkillForm, status: int = 200) -> HttpResponse:
    context = {**_grid(), "queues": _queues(), "skill_form": skill_form}
    return render(request, "callcenter/acd.html", context, status=status)


@require_http_methods(["GET"])
def acd_page(request: HttpRequest) -> HttpResponse:
    _manager(request)
    return _page(request, SkillForm())


@require_POST
def add_skill(request: HttpRequest) -> HttpResponse:
    _manager(request)
    form = SkillForm(request.POST)
    if form.is_valid():
        try:
            acd_services.save_skill(actor(request), form.cleaned_data["name"])
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        return _page(request, form, status=422)
    messages.success(request, _("Saved."))
    return redirect("callcenter:acd")


@require_POST
def remove_skill(request: HttpRequest, pk: int) -> HttpResponse:
    _manager(request)
    skill = get_object_or_404(Skill, pk=pk)
    try:
        acd_services.delete_skill(actor(request), skill)
    except ValidationError as exc:
        for problems in field_errors(exc).values():
            for problem in problems:
                messages.error(request, f"{skill.name}: {problem}")
    else:
        messages.success(request, _("Removed."))
    return redirect("callcenter:acd")


@require_POST
def set_cell(request: HttpRequest) -> HttpResponse:
    """One cell of the grid: the level typed, checked against the version shown."""
    user = actor(request)
    access.require_routing(user)
    op = get_object_or_404(
        Operator.objects.select_related("user"), pk=parse_id(request.POST.get("operator")) or 0
    )
    skill = get_object_or_404(Skill, pk=parse_id(request.POST.get("skill")) or 0)
    version = parse_id(request.POST.get("version"))
    raw = clean_text(request.POST.get("level", ""), 20)
    where = _("%(operator)s × %(skill)s") % {
        "operator": f"{op.extension} {op.user}",
        "skill": skill,
    }
    try:
        level = acd_services.parse_level(raw)
        if version is None:
            raise ValueError(_("Reload the page."))
        acd_services.set_cells(user, [CellIn(op.pk, skill.pk, level, version)])
    except ValueError as exc:
        return _cell_response(request, op, skill, raw, version or 0, f"{where}: {exc}", 422)
    except StaleCell as exc:
        message = _("%(where)s: someone else changed this cell; it now shows their value.") % {
            "where": where
        }
        return _cell_response(
            request, op, skill, exc.level or "", exc.current_version, message, 409
        )
    except ValidationError as exc:
        problem = " ".join(" ".join(m) for m in field_errors(exc).values())
        return _cell_response(request, op, skill, raw, version or 0, f"{where}: {problem}", 422)
    if not getattr(request, "htmx", False):
        return redirect("callcenter:acd")
    row = OperatorSkill.objects.filter(operator=op, skill=skill).first()
    return render(request, "callcenter/acd_cell.html", {"cell": _cell(op, skill, row, saved=True)})


def _cell_response(
    request: HttpRequest,
    op: Operator,
    skill: Skill,
    level: object,
    version: int,
    error: str,
    status: int,
) -> HttpResponse:
    if not getattr(request, "htmx", False):
        messages.error(request, error)
        return redirect("callcenter:acd")
    cell = {"operator": op, "skill": skill, "level": level, "version": version, "error": error}
    return render(request, "callcenter/acd_cell.html", {"cell": cell}, status=status)


@require_http_methods(["GET", "POST"])
def queue_routing(request: HttpRequest, pk: int) -> HttpResponse:
    _manager(request)
    queue = get_object_or_404(Queue, pk=pk)
    skills = list(Skill.objects.all()[:MAX_ROWS])
    row = acd_services.routing_of(queue)
    if request.method == "POST":
        form = QueueRoutingForm(request.POST, queue=queue, skills=skills)
        if form.is_valid():
            config = form.config()
            try:
                acd_services.save_queue_config(
                    actor(request), queue, config, form.cleaned_data["version"]
                )
            except StaleVersion:
                form.add_error(
                    None, _("Someone else changed this queue's routing; reload the page.")
                )
            except ValidationError as exc:
                add_service_errors(form, exc, form.error_fields(config))
            else:
                messages.success(request, _("Saved."))
                return redirect("callcenter:acd")
        return _queue_page(request, queue, form, status=422)
    return _queue_page(
        request, queue, QueueRoutingForm(initial=_initial(queue, row), queue=queue, skills=skills)
    )


def _initial(queue: Queue, row: QueueRouting) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "strategy": row.strategy,
        "sticky_wait_s": row.sticky_wait_s,
        "escalate_after_s": row.escalate_after_s,
        "use_abc": row.use_abc,
        "vip_tag": row.vip_tag_id,
        "version": row.version,
    }
    for need in queue.required_skills.all():
        initial[f"need_{need.skill_id}"] = need.min_level
    for n, step in enumerate(queue.overflow.all()[:3]):
        initial[f"after_{n}"] = step.after_wait_s
        initial[f"drop_{n}"] = step.level_drop
        initial[f"target_{n}"] = step.target_id
    return initial


def _queue_page(
    request: HttpRequest, queue: Queue, form: QueueRoutingForm, status: int = 200
) -> HttpResponse:
    return render(
        request, "callcenter/acd_queue.html", {"queue": queue, "form": form}, status=status
    )
