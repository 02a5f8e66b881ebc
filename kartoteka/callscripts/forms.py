"""Forms of the script editor and of the step the operator answers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kartoteka.callcenter.models import Disposition, Queue
from kartoteka.callscripts.models import Script, Step
from kartoteka.callscripts.services import MAX_LABEL, MAX_NAME, MAX_TEXT, OptionData, StepData
from kartoteka.core.forms import IdsChoiceField, StyledForm

VERSION = {"widget": forms.HiddenInput, "min_value": 1, "max_value": 2**31}


class ScriptForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=MAX_NAME)
    direction = forms.ChoiceField(
        label=_("Calls"), choices=Script.Direction.choices, required=False
    )
    queues = IdsChoiceField(
        label=_("Queues"),
        queryset=Queue.objects.all(),
        required=False,
        help_text=_("None chosen: calls of every queue."),
    )
    is_active = forms.BooleanField(label=_("In use"), required=False)
    version = forms.IntegerField(required=False, **VERSION)  # type: ignore[arg-type]


def _step_choices(numbers: dict[int, int]) -> list[tuple[str, str]]:
    return [("", "—"), *((str(pk), str(_("Step %(n)d")) % {"n": n}) for pk, n in numbers.items())]


class StepForm(StyledForm):
    text = forms.CharField(
        label=_("What the operator says"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Placeholders: {first_name}, {middle_name}, {last_name}, {name}, {operator}."),
    )
    kind = forms.ChoiceField(label=_("Answer"), choices=Step.Kind.choices)
    position = forms.IntegerField(label=_("Order"), min_value=0, max_value=32767, required=False)
    next_step = forms.TypedChoiceField(
        label=_("Next step (for “yes”, a text or a number)"),
        coerce=int,
        required=False,
        empty_value=None,
    )
    no_step = forms.TypedChoiceField(
        label=_("Next step after “no”"), coerce=int, required=False, empty_value=None
    )
    disposition = forms.ModelChoiceField(
        label=_("Suggested result (final step)"),
        queryset=Disposition.objects.filter(is_active=True),
        required=False,
    )
    version = forms.IntegerField(**VERSION)  # type: ignore[arg-type]

    def __init__(self, *args: Any, numbers: dict[int, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("next_step", "no_step"):
            self.fields[name].choices = _step_choices(numbers)  # type: ignore[attr-defined]


class OptionForm(StyledForm):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    label = forms.CharField(label=_("Option"), max_length=MAX_LABEL, required=False)
    next_step = forms.TypedChoiceField(
        label=_("Leads to"), coerce=int, required=False, empty_value=None
    )
    remove = forms.BooleanField(label=_("Remove"), required=False)

    def __init__(self, *args: Any, numbers: dict[int, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["next_step"].choices = _step_choices(numbers)  # type: ignore[attr-defined]


OptionFormSet = forms.formset_factory(OptionForm, extra=3, max_num=20, absolute_max=20)


def step_data(form: StepForm, options: Any) -> tuple[StepData, list[int]]:
    """The step as the service takes it, and for each option sent its row in the formset."""
    data = form.cleaned_data
    rows = [
        (index, o)
        for index, o in enumerate(options.cleaned_data)
        if o and not o.get("remove") and (o.get("label") or o.get("id"))
    ]
    chosen = [
        OptionData(label=o["label"], next_step_id=o.get("next_step"), id=o.get("id"))
        for _index, o in rows
    ]
    step = StepData(
        text=data["text"],
        kind=data["kind"],
        position=data.get("position"),
        next_step_id=data.get("next_step"),
        no_step_id=data.get("no_step"),
        disposition=data.get("disposition"),
        options=chosen if data["kind"] == Step.Kind.CHOICE else [],
    )
    return step, [index for index, _o in rows]
