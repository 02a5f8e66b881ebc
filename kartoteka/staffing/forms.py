"""The staffing page's form: the same inputs as the API, in a planner's words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kartoteka.callcenter.models import Queue
from kartoteka.core.forms import StyledForm
from kartoteka.staffing.planning import INTERVALS, Inputs, parse_forecast


def _number(label: Any, low: float, high: float, **extra: Any) -> forms.FloatField:
    return forms.FloatField(label=label, min_value=low, max_value=high, **extra)


class StaffingForm(StyledForm):
    source = forms.ChoiceField(
        label=_("Volumes"),
        choices=[("forecast", _("my forecast")), ("history", _("from history"))],
        initial="forecast",
    )
    span = forms.ChoiceField(
        label=_("Plan"), choices=[("day", _("a day")), ("week", _("a week"))], initial="day"
    )
    interval_minutes = forms.TypedChoiceField(
        label=_("Interval, minutes"),
        choices=[(m, str(m)) for m in INTERVALS],
        coerce=int,
        initial=30,
    )
    day_start = forms.IntegerField(
        label=_("Day starts at, hour"), min_value=0, max_value=23, initial=8
    )
    day_end = forms.IntegerField(
        label=_("Day ends at, hour"), min_value=1, max_value=24, initial=20
    )
    queue = forms.ChoiceField(label=_("Queue"), required=False)
    weeks = forms.IntegerField(label=_("Weeks of history"), min_value=1, max_value=26, initial=4)
    forecast = forms.CharField(
        label=_("Forecast: calls per interval, one per line"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "12\n18\n25"}),
    )
    aht_s = _number(
        _("Average handle time, s"),
        1,
        86_400,
        required=False,
        help_text=_("Talk plus after-call work; empty with history: taken from it."),
    )
    goal = forms.ChoiceField(
        label=_("Target"),
        choices=[("sl", _("service level")), ("asa", _("average speed of answer"))],
        initial="sl",
    )
    target_sl = _number(
        _("Service level, share (0.8 = 80 %)"), 0.01, 0.999, initial=0.8, required=False
    )
    answer_s = _number(_("… answered within, s"), 0, 3600, initial=20)
    target_asa_s = _number(_("ASA target, s"), 0.1, 3600, required=False)
    shrinkage = _number(_("Shrinkage (0.3 = 30 %)"), 0, 0.95, initial=0.3)
    max_occupancy = _number(_("Maximum occupancy"), 0.1, 1, initial=0.85)
    patience_s = _number(
        _("Mean patience, s"),
        1,
        86_400,
        required=False,
        help_text=_("Callers hang up after this on average (Erlang A); empty: nobody hangs up."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = Queue.objects.values_list("name", flat=True)
        queue = self.fields["queue"]
        assert isinstance(queue, forms.ChoiceField)
        queue.choices = [("", _("all queues")), *((n, n) for n in names)]

    GROUPS = (
        ("source", "forecast", "aht_s"),
        ("span", "interval_minutes", "day_start", "day_end", "queue", "weeks"),
        (
            "goal",
            "target_sl",
            "answer_s",
            "target_asa_s",
            "shrinkage",
            "max_occupancy",
            "patience_s",
        ),
    )

    def groups(self) -> list[list[forms.BoundField]]:
        """The fields in the page's three columns: volumes, intervals, targets."""
        return [[self[name] for name in names] for names in self.GROUPS]

    def clean_forecast(self) -> list[float]:
        try:
            return parse_forecast(self.cleaned_data.get("forecast") or "")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["forecast"]) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("goal") == "sl" and data.get("target_sl") is None:
            self.add_error("target_sl", _("Enter the service-level target."))
        if data.get("goal") == "asa" and data.get("target_asa_s") is None:
            self.add_error("target_asa_s", _("Enter the ASA target."))
        return data

    def inputs(self) -> Inputs:
        data = self.cleaned_data
        asa = data["goal"] == "asa"
        return Inputs(
            source=data["source"],
            span=data["span"],
            interval_minutes=data["interval_minutes"],
            day_start=data["day_start"],
            day_end=data["day_end"],
            queue=data.get("queue") or "",
            weeks=data["weeks"],
            forecast=data["forecast"] if data["source"] == "forecast" else [],
            aht_s=data.get("aht_s"),
            target_sl=None if asa else data["target_sl"],
            answer_s=data["answer_s"],
            target_asa_s=data["target_asa_s"] if asa else None,
            shrinkage=data["shrinkage"],
            max_occupancy=data["max_occupancy"],
            patience_s=data.get("patience_s"),
        )
