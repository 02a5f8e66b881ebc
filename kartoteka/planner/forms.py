"""Forms of the planner's pages: a task, its status changes, the list's filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kartoteka.accounts.models import User
from kartoteka.core.forms import IdsChoiceField, StyledForm
from kartoteka.planner.models import MAX_DURATION, Task
from kartoteka.planner.services import FIELDS

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
REMIND_CHOICES = [
    ("", _("no reminder")),
    ("0", _("at the due time")),
    ("5", _("5 minutes before")),
    ("15", _("15 minutes before")),
    ("30", _("30 minutes before")),
    ("60", _("an hour before")),
    ("1440", _("a day before")),
]
WHEN_CHOICES = [
    ("", _("any time")),
    ("today", _("today")),
    ("overdue", _("overdue")),
    ("week", _("this week")),
    ("later", _("later")),
    ("undated", _("without a date")),
]


class TaskFilter(StyledForm):
    when = forms.ChoiceField(label=_("when"), required=False, choices=WHEN_CHOICES)
    status = forms.ChoiceField(
        label=_("status"),
        required=False,
        choices=[("active", _("to do")), ("", _("any")), *Task.Status.choices],
    )
    kind = forms.ChoiceField(
        label=_("kind"), required=False, choices=[("", _("any")), *Task.Kind.choices]
    )
    assignee = forms.ModelChoiceField(
        label=_("assignee"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, users: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = users if users is not None else User.objects.none()  # type: ignore[attr-defined]

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of queries.filter_tasks; with no status asked, the tasks to do."""
        data = self.cleaned_data if self.is_valid() else {}
        assignee = data.get("assignee")
        return {
            "when_": data.get("when") or "",
            "status": data.get("status", "") if "status" in self.data else "active",
            "kind": data.get("kind") or "",
            "assignee": assignee.pk if assignee else None,
        }


class TaskForm(StyledForm):
    kind = forms.ChoiceField(label=_("kind"), choices=Task.Kind.choices, initial=Task.Kind.CALL)
    title = forms.CharField(label=_("title"), max_length=200)
    description = forms.CharField(
        label=_("description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=20_000,
    )
    assignee = forms.ModelChoiceField(label=_("assignee"), queryset=User.objects.none())
    participants = IdsChoiceField(
        label=_("participants"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("For meetings: colleagues who are invited too."),
    )
    due_at = forms.DateTimeField(label=_("due"), required=False, widget=DATETIME)
    duration_minutes = forms.IntegerField(
        label=_("duration, minutes"), min_value=1, max_value=MAX_DURATION, initial=30
    )
    priority = forms.TypedChoiceField(
        label=_("priority"), choices=Task.Priority.choices, coerce=int, initial=Task.Priority.NORMAL
    )
    remind_minutes = forms.TypedChoiceField(
        label=_("reminder"), choices=REMIND_CHOICES, coerce=int, empty_value=None, required=False
    )
    remind_by_email = forms.BooleanField(label=_("remind by e-mail too"), required=False)
    repeat = forms.ChoiceField(label=_("repeat"), choices=Task.Repeat.choices, required=False)
    repeat_interval = forms.IntegerField(
        label=_("every (days, weeks, months)"), min_value=1, max_value=365, initial=1
    )
    repeat_until = forms.DateField(label=_("repeat until"), required=False, widget=DATE)
    repeat_count = forms.IntegerField(
        label=_("number of occurrences"), min_value=1, max_value=1000, required=False
    )
    clients = forms.CharField(widget=forms.MultipleHiddenInput, required=False)
    deals = forms.CharField(widget=forms.MultipleHiddenInput, required=False)

    SERVICE_FIELDS = FIELDS  # what the service accepts

    def __init__(self, *args: Any, users: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everyone = User.objects.filter(is_active=True).order_by("first_name", "username")
        self.fields["assignee"].queryset = users if users is not None else everyone  # type: ignore[attr-defined]
        self.fields["participants"].queryset = everyone  # type: ignore[attr-defined]

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.SERVICE_FIELDS}


class DoneForm(StyledForm):
    result = forms.CharField(
        label=_("result"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PostponeForm(StyledForm):
    due_at = forms.DateTimeField(label=_("new date"), widget=DATETIME)
    reason = forms.CharField(label=_("reason"), max_length=500)


class CancelForm(StyledForm):
    reason = forms.CharField(label=_("reason"), max_length=500, required=False)
