"""Quality pages: the evaluator's worklist, scorecards, samples, the evaluation page with the
call's recording, and operator scores over time. Thin: queries read (scoped), services write."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.callcenter import access
from kartoteka.callcenter import queries as call_queries
from kartoteka.callcenter.forms import PeriodForm
from kartoteka.callcenter.views import _origin
from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion, field_errors
from kartoteka.core.forms import add_service_errors, clean_text, parse_id
from kartoteka.core.middleware import CSP
from kartoteka.core.pagination import BadCursor, keyset_page
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor, render_page
from kartoteka.quality import queries, services
from kartoteka.quality.forms import (
    CriterionFormSet,
    ReplyForm,
    SampleForm,
    ScorecardForm,
    ScoresForm,
    criteria_initial,
)
from kartoteka.quality.models import Evaluation, Scorecard
from kartoteka.quality.services import MAX_TEXT, ScoreIn

PAGE = 50


def _supervisor(request: HttpRequest) -> None:
    access.require_runs_centre(actor(request))


# --- the worklist and the evaluations list ----------------------------------------------------


@require_GET
def evaluation_list(request: HttpRequest) -> HttpResponse:
    """To a supervisor: what is assigned to them, then all they may see; to an operator: their
    own submitted evaluations. `operator`, `start`, `end` come from the scores page's drill."""
    user = actor(request)
    rows = queries.visible_evaluations(user).select_related("operator", "scorecard", "call")
    state = request.GET.get("state", "")
    if state in Evaluation.State.values:
        rows = rows.filter(state=state)
    if request.GET.get("mine"):
        rows = rows.filter(evaluator=user)
    operator_id = parse_id(request.GET.get("operator"))
    if operator_id is not None:
        rows = rows.filter(operator_id=operator_id)
    period = PeriodForm(request.GET) if "start" in request.GET else None
    if period is not None and period.is_valid():
        rows = rows.filter(
            pk__in=queries.submitted(
                user, period.cleaned_data["start"], period.cleaned_data["end"]
            ).values("pk")
        )
    try:
        page = keyset_page(rows, "id", True, request.GET.get("cursor") or None, PAGE)
    except BadCursor:
        return HttpResponse(_("This link is out of date; reload the list."), status=400)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "evaluations": page.rows,
        "next_cursor": page.next_cursor,
        "query": query,
        "supervisor": access.runs_centre(user),
        "states": Evaluation.State.choices,
        "state": state,
    }
    return render_page(request, "quality/list.html", context, "quality/_rows.html")


# --- scorecards -------------------------------------------------------------------------------


@require_GET
def scorecard_list(request: HttpRequest) -> HttpResponse:
    _supervisor(request)
    rows = queries.scorecards(actor(request)).prefetch_related("criteria")
    return render(request, "quality/scorecards.html", {"scorecards": rows})


@require_http_methods(["GET", "POST"])
def scorecard_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = actor(request)
    _supervisor(request)
    scorecard = queries.scorecard_or_404(user, pk) if pk is not None else None
    data = request.POST if request.method == "POST" else None
    initial = {"name": "", "is_active": True, "version": None}
    if scorecard is not None:
        initial = {
            "name": scorecard.name,
            "is_active": scorecard.is_active,
            "version": scorecard.version,
        }
    form = ScorecardForm(data, initial=initial)
    rows = CriterionFormSet(data, initial=criteria_initial(scorecard), prefix="criteria")
    status = 200
    if data is not None:
        status = 422
        if form.is_valid() and rows.is_valid():
            # Rows left empty are skipped; the others keep their number for the messages.
            inputs = [(i, f.to_input()) for i, f in enumerate(rows.forms) if f.cleaned_data]
            filled = [(i, c) for i, c in inputs if c is not None]
            try:
                saved = services.save_scorecard(
                    user,
                    scorecard,
                    name=form.cleaned_data["name"],
                    is_active=form.cleaned_data["is_active"],
                    criteria=[c for _i, c in filled],
                    # A page always names the version it showed; none is as stale as any.
                    expected_version=form.cleaned_data["version"] or 0,
                    row_numbers=[i + 1 for i, _c in filled],
                )
            except StaleVersion:
                form.add_error(None, _("Someone else saved this scorecard; reload it."))
                status = 409
            except ValidationError as exc:
                _row_errors(form, rows, exc, [i for i, _c in filled])
            else:
                messages.success(request, _("Scorecard saved."))
                return redirect("quality:scorecard", pk=saved.pk)
        else:
            for index, row_form in enumerate(rows.forms):
                for message in (m for ms in row_form.errors.values() for m in ms):
                    form.add_error(None, _("Row %(n)d") % {"n": index + 1} + f": {message}")
            for message in rows.non_form_errors():
                form.add_error(None, message)
    context = {"form": form, "rows": rows, "scorecard": scorecard}
    return render(request, "quality/scorecard.html", context, status=status)


def _row_errors(form: ScorecardForm, rows: Any, exc: ValidationError, indices: list[int]) -> None:
    """The service's `criteria.<k>.<field>` errors on the k-th filled row's field, and all of
    them (each names its row) above the form."""
    for key, messages_ in field_errors(exc).items():
        parts = key.split(".")
        if len(parts) == 3 and parts[1].isdecimal() and int(parts[1]) < len(indices):
            row = rows.forms[indices[int(parts[1])]]
            for message in messages_:
                row.add_error(parts[2] if parts[2] in row.fields else None, message)
                form.add_error(None, message)
        elif key in form.fields:
            for message in messages_:
                form.add_error(key, message)
        else:
            for message in messages_:
                form.add_error(None, message)


@require_POST
def scorecard_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    _supervisor(request)
    services.delete_scorecard(user, queries.scorecard_or_404(user, pk))
    messages.success(request, _("The scorecard is in the trash; its evaluations stay."))
    return redirect("quality:scorecards")


# --- samples ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sample(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    _supervisor(request)
    data = request.POST if request.method == "POST" else None
    form = SampleForm(data, initial={**SampleForm.default(), "evaluator": user, "per_operator": 5})
    if data is not None and form.is_valid():
        values = form.cleaned_data
        try:
            drawn = services.draw_sample(
                user,
                scorecard=values["scorecard"],
                evaluator=values["evaluator"],
                start=values["start"],
                end=values["end"],
                queue=values["queue"].strip(),
                per_operator=values["per_operator"],
                percent=values["percent"],
                seed=values["seed"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Calls drawn: %(n)d (seed %(seed)d).") % {"n": drawn.drawn, "seed": drawn.seed},
            )
            return redirect(f"{reverse('quality:list')}?mine=1&state=pending")
    status = 422 if data is not None else 200
    return render(request, "quality/sample.html", {"form": form}, status=status)


# --- one evaluation ---------------------------------------------------------------------------


def _scores_from(request: HttpRequest, evaluation: Evaluation) -> tuple[list[ScoreIn], list[str]]:
    """Scores posted as `score-<answer id>` ("" = not applicable); only this evaluation's."""
    scores, errors = [], []
    for answer in evaluation.answers.all():
        raw = request.POST.get(f"score-{answer.pk}", "").strip()
        value = parse_id(raw)
        if raw and value is None:
            errors.append(_("%(label)s: a whole number.") % {"label": answer.label})
            continue
        comment = clean_text(request.POST.get(f"comment-{answer.pk}", ""), MAX_TEXT + 1)
        scores.append(ScoreIn(answer.pk, value, comment))
    return scores, errors


@require_http_methods(["GET", "POST"])
def evaluation(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    row = queries.evaluation_or_404(user, pk)
    editable = (
        row.state == Evaluation.State.PENDING
        and access.runs_centre(user)
        and row.operator_id != user.pk
    )
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if not editable:
            raise permissions.Denied(Action.EDIT)
        scores, errors = _scores_from(request, row)
        version = parse_id(request.POST.get("version")) or 0  # none is as stale as any
        if not errors:
            try:
                services.save_evaluation(
                    user,
                    row,
                    version,
                    scores=scores,
                    comment=clean_text(request.POST.get("comment", ""), MAX_TEXT + 1),
                    submit=request.POST.get("action") == "submit",
                )
            except StaleVersion:
                errors.append(_("Someone else saved this evaluation; reload it and try again."))
                status = 409
            except ValidationError as exc:
                errors += [m for ms in field_errors(exc).values() for m in ms]
            else:
                messages.success(request, _("Evaluation saved."))
                return redirect("quality:evaluation", pk=row.pk)
        status = status if status != 200 else 422
    recording = row.call.recording_url if _origin(row.call.recording_url) else ""
    context = {
        "evaluation": row,
        "call": row.call,
        "answers": _answers_for_form(row, request.POST if request.method == "POST" else None),
        "supervisor": access.runs_centre(user),
        "editable": editable,
        "errors": errors,
        "recording": recording,
        "reply_form": ReplyForm() if row.operator_id == user.pk else None,
        "call_visible": call_queries.visible_calls(user).filter(pk=row.call_id).exists(),
    }
    response = render(request, "quality/evaluation.html", context, status=status)
    if recording:
        # The recording plays from the PBX's server: this page alone may load media from it.
        response["Content-Security-Policy"] = f"{CSP}; media-src 'self' {_origin(recording)}"
    return response


def _answers_for_form(row: Evaluation, posted: Any) -> list[Any]:
    """Each criterion with its choices and the value to show (what was posted, on an error)."""
    answers = list(row.answers.all())
    shown: list[Any] = []
    for answer in answers:
        item: Any = answer
        saved = "" if answer.score is None else str(answer.score)
        item.current = posted.get(f"score-{answer.pk}", saved) if posted else saved
        item.note = posted.get(f"comment-{answer.pk}", answer.comment) if posted else answer.comment
        if answer.kind == "yes_no":
            item.options = [("1", _("yes")), ("0", _("no"))]
        else:
            item.options = [(str(v), str(v)) for v in range(answer.max_score, -1, -1)]
        shown.append(item)
    return shown


@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    row = queries.evaluation_or_404(user, pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.reply(user, row, form.cleaned_data["reply"], form.cleaned_data["comment"])
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        for message in (str(m) for ms in form.errors.values() for m in ms):
            messages.error(request, message)
    else:
        messages.success(request, _("Your answer is saved."))
    return redirect("quality:evaluation", pk=row.pk)


@require_POST
def evaluate_call(request: HttpRequest, call_pk: int) -> HttpResponse:
    """From the call card: open (or start) this call's evaluation on the chosen scorecard."""
    user = actor(request)
    _supervisor(request)
    call = call_queries.card(user, call_pk)
    scorecard = Scorecard.objects.filter(
        pk=parse_id(request.POST.get("scorecard")) or 0, is_active=True
    ).first()
    if scorecard is None:
        messages.error(request, _("Choose a scorecard in use."))
        return redirect("callcenter:card", pk=call.pk)
    try:
        started = services.start_evaluation(user, call, scorecard)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("callcenter:card", pk=call.pk)
    return redirect("quality:evaluation", pk=started.pk)


def _number(value: object) -> float | None:
    return None if value is None else float(str(value))


# --- scores over time -------------------------------------------------------------------------


@require_GET
def scores(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    form = ScoresForm(request.GET if "start" in request.GET else ScoresForm.default())
    result = None
    if form.is_valid():
        data = form.cleaned_data
        result = queries.scores(
            user, data["start"], data["end"], data["grain"], parse_id(request.GET.get("operator"))
        )
    chart = None
    if result is not None:
        chart = {
            "kind": "line",
            "labels": result.labels,
            "series": [
                {"label": str(row["user"]), "values": [_number(c[1]) for c in row["cells"]]}
                for row in result.rows
            ],
        }
    context: dict[str, Any] = {
        "form": form,
        "result": result,
        "chart": chart,
        "supervisor": access.runs_centre(user),
    }
    return render(request, "quality/scores.html", context, status=200 if result else 422)
