"""Forms of the contact centre's pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.accounts.models import User
from kartoteka.callcenter.models import BreakReason, Call, Disposition, Operator, Queue
from kartoteka.callcenter.services import MAX_SUMMARY
from kartoteka.core.forms import StyledForm, style


class CallCardForm(StyledForm):
    disposition = forms.ModelChoiceField(
        label=_("Result"), queryset=Disposition.objects.none(), required=False
    )
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=MAX_SUMMARY,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31)

    def __init__(self, *args: Any, call: Call, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = Disposition.objects.filter(is_active=True)
        if call.disposition_id:
            chosen = chosen | Disposition.objects.filter(pk=call.disposition_id)
        self.fields["disposition"].queryset = chosen.distinct()  # type: ignore[attr-defined]


class StatusForm(StyledForm):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(s.value, s.label) for s in Operator.CHOSEN],
    )
    break_reason = forms.ModelChoiceField(
        label=_("Break reason"),
        queryset=BreakReason.objects.filter(is_active=True),
        required=False,
    )


class DialForm(StyledForm):
    number = forms.CharField(label=_("Number"), max_length=40)


class PeriodForm(StyledForm):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and (end < start or (end - start).days > 366):
            self.add_error("end", _("The end must be after the start, within a year."))
        return data

    @classmethod
    def default(cls) -> dict[str, dt.date]:
        today = timezone.localdate()
        return {"start": today - dt.timedelta(days=6), "end": today}


class CallFilter(StyledForm):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("any")), ("lost", _("missed or abandoned")), *Call.Status.choices],
    )
    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=[("", _("any")), *Call.Direction.choices]
    )
    mine = forms.BooleanField(label=_("Only mine"), required=False)


# --- settings (administrators) ----------------------------------------------------------------


class _StyledModelForm(forms.ModelForm):
    """Bootstrap classes on every widget, as StyledForm does for plain forms."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)


class DispositionForm(_StyledModelForm):
    class Meta:
        model = Disposition
        fields = ["name", "position"]


class BreakReasonForm(_StyledModelForm):
    class Meta:
        model = BreakReason
        fields = ["name", "limit_minutes"]


def _active_users() -> Any:
    return User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")


class OperatorForm(StyledForm):
    """Adds an operator or changes one; the service checks the extension and the user."""

    user = forms.ModelChoiceField(label=_("User"), queryset=User.objects.none())
    extension = forms.CharField(label=_("Extension"), max_length=40)
    acw_seconds = forms.IntegerField(
        label=_("After-call work limit, seconds"), min_value=0, max_value=3600, initial=60
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _active_users()  # type: ignore[attr-defined]


class OperatorEditForm(OperatorForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31)


class CallbackDefaultForm(StyledForm):
    default_user = forms.ModelChoiceField(
        label=_("Calls back when nobody else does"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("the heads, else the administrators"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_user"].queryset = _active_users()  # type: ignore[attr-defined]


class QueueForm(_StyledModelForm):
    class Meta:
        model = Queue
        fields = ["name", "callback_user"]
