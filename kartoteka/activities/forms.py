"""Forms for the timeline: quick actions on the card and the timeline filter."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.activities.models import Interaction
from kartoteka.core.forms import StyledForm

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class TimelineFilter(StyledForm):
    kind = forms.ChoiceField(
        label=_("kind"), required=False, choices=[("", _("all")), *Interaction.Kind.choices]
    )
    since = forms.DateField(
        label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ServiceForm(StyledForm):
    """A form whose cleaned data becomes the fields of an interaction service call."""

    def service_fields(self) -> dict[str, Any]:
        raise NotImplementedError


class QuickCallForm(ServiceForm):
    direction = forms.ChoiceField(label=_("direction"), choices=Interaction.Direction.choices)
    minutes = forms.DecimalField(
        label=_("duration, minutes"), required=False, min_value=0, max_value=1440, decimal_places=1
    )
    result = forms.CharField(label=_("result"), required=False, max_length=200)
    summary = forms.CharField(
        label=_("summary"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        minutes = data.get("minutes")
        return {
            "kind": Interaction.Kind.CALL,
            "channel": Interaction.Channel.PHONE,
            "occurred_at": timezone.now(),
            "direction": data["direction"],
            "result": data["result"],
            "summary": data["summary"],
            "duration_seconds": int(minutes * 60) if minutes is not None else None,
        }


class QuickNoteForm(ServiceForm):
    summary = forms.CharField(
        label=_("note"), max_length=10000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def service_fields(self) -> dict[str, Any]:
        return {
            "kind": Interaction.Kind.NOTE,
            "summary": self.cleaned_data["summary"],
            "occurred_at": timezone.now(),
        }


class InteractionForm(ServiceForm):
    """Any kind of interaction, with the fields that kind uses."""

    kind = forms.ChoiceField(label=_("kind"), choices=Interaction.Kind.choices)
    occurred_at = forms.DateTimeField(label=_("time"), widget=DATETIME, required=False)
    channel = forms.ChoiceField(
        label=_("channel"), required=False, choices=[("", "—"), *Interaction.Channel.choices]
    )
    direction = forms.ChoiceField(
        label=_("direction"), required=False, choices=[("", "—"), *Interaction.Direction.choices]
    )
    subject = forms.CharField(label=_("subject"), required=False, max_length=300)
    summary = forms.CharField(
        label=_("summary"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    result = forms.CharField(label=_("result"), required=False, max_length=200)
    amount = forms.DecimalField(label=_("amount"), required=False, max_digits=14, decimal_places=2)
    currency = forms.CharField(label=_("currency"), required=False, max_length=3, initial="RUB")
    complaint_status = forms.ChoiceField(
        label=_("complaint status"),
        required=False,
        choices=[("", "—"), *Interaction.ComplaintStatus.choices],
    )

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("amount") is None:
            data["currency"] = ""
        return data
