"""The KPI pages: period reports with charts and CSV (/calls/kpi/), the live wallboard
(/calls/wallboard/). Thin: callcenter.kpi computes, the permissions engine scopes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from kartoteka.callcenter import access, kpi, kpi_wall, live
from kartoteka.callcenter.models import Operator, Queue
from kartoteka.callcenter.queries import visible_operators
from kartoteka.core.forms import StyledForm, add_service_errors
from kartoteka.core.permissions import AnyUser
from kartoteka.core.views import actor, render_page
from kartoteka.transfer.writers import file_response


class SettingsForm(StyledForm):
    """T, the variant and the short-abandon threshold: the definitions' three settings."""

    answer_s = forms.IntegerField(
        label=gettext_lazy("Answered within, s"), min_value=1, max_value=kpi.MAX_ANSWER_S
    )
    variant = forms.ChoiceField(
        label=gettext_lazy("Service level over"),
        choices=[
            ("offered", gettext_lazy("answered + abandoned")),
            ("answered", gettext_lazy("answered calls")),
        ],
    )
    short_abandon_s = forms.IntegerField(
        label=gettext_lazy("Short abandon under, s"),
        min_value=0,
        max_value=kpi.MAX_SHORT_ABANDON_S,
    )
    DEFAULTS = {"answer_s": 20, "variant": "offered", "short_abandon_s": 5}


class KpiForm(SettingsForm):
    start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))
    group = forms.ChoiceField(
        label=gettext_lazy("Break down"),
        choices=[
            ("queue", gettext_lazy("per queue")),
            ("operator", gettext_lazy("per operator")),
            ("interval", gettext_lazy("per interval")),
        ],
    )
    interval = forms.ChoiceField(
        label=gettext_lazy("Interval"),
        choices=[
            ("hour", gettext_lazy("hour")),
            ("day", gettext_lazy("day")),
            ("week", gettext_lazy("week")),
        ],
    )
    queue = forms.ChoiceField(label=gettext_lazy("Queue"), required=False)
    operator = forms.ModelChoiceField(
        label=gettext_lazy("Operator"), queryset=Operator.objects.none(), required=False
    )
    field_order = ["start", "end", "group", "interval", "queue", "operator"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = Queue.objects.order_by("name").values_list("name", flat=True)
        self.fields["queue"].choices = [("", _("all")), *((n, n) for n in names)]  # type: ignore[attr-defined]
        self.fields["operator"].queryset = visible_operators(user).select_related("user")  # type: ignore[attr-defined]

    @classmethod
    def default(cls) -> dict[str, Any]:
        today = timezone.localdate()
        start = today - dt.timedelta(days=6)
        return {"start": start, "end": today, "group": "queue", "interval": "day", **cls.DEFAULTS}

    def params(self) -> kpi.Params | None:
        if not self.is_valid():
            return None
        data = self.cleaned_data
        try:
            return kpi.params(
                data["start"],
                data["end"],
                group=data["group"],
                interval=data["interval"],
                answer_s=data["answer_s"],
                variant=data["variant"],
                short_abandon_s=data["short_abandon_s"],
                queue=data.get("queue") or "",
                operator_id=data["operator"].pk if data.get("operator") else None,
            )
        except ValidationError as exc:
            add_service_errors(self, exc, {"to": "end"})
            return None


def _percent(value: float | None) -> float | None:
    return round(value * 100, 1) if value is not None else None


def _chart(key: str, title: str, labels: list[str], series: dict[str, list[Any]]) -> dict[str, Any]:
    return {
        "key": key,
        "kind": "line",
        "title": title,
        "labels": labels,
        "series": [{"label": name, "values": values} for name, values in series.items()],
    }


def _charts(rows: list[kpi.Row]) -> list[dict[str, Any]]:
    labels = [r.label for r in rows]
    return [
        _chart(
            "sl",
            _("Service level and abandonment, %"),
            labels,
            {
                _("Service level"): [_percent(r.service_level) for r in rows],
                _("Abandonment"): [_percent(r.abandonment_rate) for r in rows],
            },
        ),
        _chart(
            "asa",
            _("Average speed of answer, s"),
            labels,
            {_("ASA"): [round(r.asa_s, 1) if r.asa_s is not None else None for r in rows]},
        ),
    ]


CSV_FIGURES = ("offered", "answered", "answered_in_t", "abandoned", "short_abandoned", "handled")


def _csv(result: kpi.Report) -> HttpResponseBase:
    header = [
        _("Row"),
        _("Offered"),
        _("Answered calls"),
        _("Answered within T"),
        _("Abandoned"),
        _("Short abandons"),
        _("Handled"),
        _("Service level, %"),
        _("ASA, s"),
        _("AHT, s"),
        _("Abandonment, %"),
        _("Occupancy, %"),
        _("FCR, %"),
    ]
    lines = []
    for r in [*result.rows, result.total]:
        figures = r.figures()
        lines.append(
            [
                r.label,
                *(figures[name] for name in CSV_FIGURES),
                _percent(r.service_level),
                round(r.asa_s, 1) if r.asa_s is not None else None,
                round(r.aht_s, 1) if r.aht_s is not None else None,
                _percent(r.abandonment_rate),
                _percent(r.occupancy),
                _percent(r.fcr),
            ]
        )
    return file_response("csv", "kpi", header, lines)


@require_GET
def kpi_page(request: HttpRequest) -> HttpResponseBase:
    user = actor(request)
    access.require_calls(user)
    if request.GET.get("format") == "csv":
        access.require_export(user)
    data = request.GET if "start" in request.GET else KpiForm.default()
    form = KpiForm(data, user=user)
    p = form.params()
    if p is None:
        return render_page(request, "callcenter/kpi.html", {"form": form}, status=422)
    if request.GET.get("format") == "csv":
        return _csv(kpi.report(user, p))
    result = kpi.report(user, p)
    series = result.rows if p.group == "interval" else kpi.series(user, p)
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        "form": form,
        "report": result,
        "charts": _charts(series),
        "query": query.urlencode(),
        "group_label": {"queue": _("Queue"), "operator": _("Operator"), "interval": _("Interval")}[
            p.group
        ],
        "supervisor": access.supervises(user),
        "can_export": access.exports_calls(user),
    }
    return render_page(request, "callcenter/kpi.html", context)


def _wall_form(request: HttpRequest) -> SettingsForm:
    return SettingsForm(request.GET if "answer_s" in request.GET else SettingsForm.DEFAULTS)


def _wall(user: AnyUser, form: SettingsForm) -> kpi_wall.Wallboard:
    today = timezone.localdate()  # read at each render: a wall screen stays open past midnight
    return kpi_wall.wallboard(user, kpi.params(today, today, **form.cleaned_data))


@require_GET
def wallboard(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    access.require_supervisor(user)
    form = _wall_form(request)
    if not form.is_valid():
        return render_page(request, "callcenter/wallboard.html", {"form": form}, status=422)
    context = {"form": form, "board": _wall(user, form), "query": request.GET.urlencode()}
    return render_page(request, "callcenter/wallboard.html", context, "callcenter/_wallboard.html")


@require_GET
async def wallboard_live(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The wallboard as Server-Sent Events (callcenter/live.py), with the page's settings."""
    form = _wall_form(request)
    if not form.is_valid():
        return HttpResponse(status=422)

    def pacer(user: AnyUser) -> live.Pacer:
        body = "callcenter/_wallboard_body.html"
        return live.Pacer("wallboard", lambda: render_to_string(body, {"board": _wall(user, form)}))

    return await live.respond(request, pacer)
