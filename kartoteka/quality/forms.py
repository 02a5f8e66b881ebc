"""Forms of the quality pages. Ranges are checked by the services, whose messages name the
row; the forms only parse."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.callcenter.forms import PeriodForm
from kartoteka.core.forms import StyledForm, style
from kartoteka.quality import queries
from kartoteka.quality.models import Criterion, Evaluation, Scorecard
from kartoteka.quality.services import MAX_TEXT, CriterionIn

VERSION = {"widget": forms.HiddenInput, "min_value": 1, "max_value": 2**31, "required": False}


class ScorecardForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=150)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)
    version = forms.IntegerField(**VERSION)  # type: ignore[arg-type]


class CriterionForm(forms.Form):
    label = forms.CharField(label=_("Criterion"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Criterion.Kind.choices)
    max_score = forms.IntegerField(label=_("Up to"), required=False, initial=1)
    weight = forms.IntegerField(label=_("Weight"), required=False, initial=1)
    critical = forms.BooleanField(label=_("Critical"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)
        for name in ("max_score", "weight"):
            self.fields[name].widget.attrs["inputmode"] = "numeric"

    def to_input(self) -> CriterionIn | None:
        """The row as the service takes it; None for a row left empty."""
        data = self.cleaned_data
        if not (data.get("label") or "").strip():
            return None
        return CriterionIn(
            label=data["label"],
            kind=data["kind"],
            max_score=data.get("max_score") or 1,
            weight=data["weight"] if data.get("weight") is not None else 0,
            critical=bool(data.get("critical")),
        )


CriterionFormSet = formset_factory(CriterionForm, extra=3, max_num=50, absolute_max=60)


def criteria_initial(scorecard: Scorecard | None) -> list[dict[str, Any]]:
    if scorecard is None:
        return []
    return [
        {
            "label": c.label,
            "kind": c.kind,
            "max_score": c.max_score,
            "weight": c.weight,
            "critical": c.critical,
        }
        for c in scorecard.criteria.all()
    ]


class SampleForm(PeriodForm):
    scorecard = forms.ModelChoiceField(label=_("Scorecard"), queryset=Scorecard.objects.none())
    queue = forms.CharField(label=_("Queue"), max_length=80, required=False)
    per_operator = forms.IntegerField(label=_("Calls per operator"), required=False)
    percent = forms.IntegerField(label=_("or percent of calls"), required=False)
    evaluator = forms.ModelChoiceField(label=_("Evaluator"), queryset=queries.supervisors())
    seed = forms.IntegerField(
        label=_("Seed"), required=False, help_text=_("Leave empty for a new random draw.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scorecard"].queryset = Scorecard.objects.filter(  # type: ignore[attr-defined]
            is_active=True
        )
        self.fields["evaluator"].queryset = queries.supervisors()  # type: ignore[attr-defined]

    @classmethod
    def default(cls) -> dict[str, dt.date]:
        today = timezone.localdate()
        return {"start": today - dt.timedelta(days=30), "end": today}


class ReplyForm(StyledForm):
    reply = forms.ChoiceField(
        label=_("Your answer"),
        choices=[
            (Evaluation.Reply.ACKNOWLEDGED, _("I acknowledge it")),
            (Evaluation.Reply.DISPUTED, _("I dispute it")),
        ],
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ScoresForm(PeriodForm):
    grain = forms.ChoiceField(
        label=_("By"), choices=[("week", _("week")), ("month", _("month"))], initial="week"
    )

    @classmethod
    def default(cls) -> dict[str, Any]:
        today = timezone.localdate()
        return {"start": today - dt.timedelta(days=90), "end": today, "grain": "week"}
