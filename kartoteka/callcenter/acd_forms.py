"""Forms of the ACD pages: a skill, and a queue's routing (required skills, overflow steps)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kartoteka.callcenter.acd_models import MAX_LEVEL, MAX_WAIT_S, MIN_LEVEL, QueueRouting, Skill
from kartoteka.callcenter.acd_services import OverflowIn, QueueConfigIn
from kartoteka.callcenter.models import Queue
from kartoteka.clients.models import Tag
from kartoteka.core.forms import StyledForm, style

OVERFLOW_ROWS = 3


class SkillForm(StyledForm):
    name = forms.CharField(label=_("Skill"), max_length=60)


def _level(label: str, required: bool = False) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=required, min_value=MIN_LEVEL, max_value=MAX_LEVEL
    )


class QueueRoutingForm(forms.Form):
    strategy = forms.ChoiceField(label=_("Who gets the call"), choices=QueueRouting.STRATEGIES)
    sticky_wait_s = forms.IntegerField(
        label=_("Wait for the client's own operator, s"), min_value=0, max_value=3600
    )
    escalate_after_s = forms.IntegerField(
        label=_("Escalate to a supervisor after, s"),
        required=False,
        min_value=0,
        max_value=MAX_WAIT_S,
        help_text=_("Empty: never."),
    )
    use_abc = forms.BooleanField(label=_("ABC class raises priority"), required=False)
    vip_tag = forms.ModelChoiceField(
        label=_("VIP tag"), queryset=Tag.objects.none(), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31)

    def __init__(self, *args: Any, queue: Queue, skills: list[Skill], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue, self.skills = queue, skills
        self.fields["vip_tag"].queryset = Tag.objects.all()  # type: ignore[attr-defined]
        for skill in skills:
            self.fields[f"need_{skill.pk}"] = _level(skill.name)
        others = Queue.objects.exclude(pk=queue.pk)
        for n in range(OVERFLOW_ROWS):
            self.fields[f"after_{n}"] = forms.IntegerField(
                label=_("After waiting, s"), required=False, min_value=0, max_value=MAX_WAIT_S
            )
            self.fields[f"drop_{n}"] = forms.IntegerField(
                label=_("lower levels by"), required=False, min_value=1, max_value=MAX_LEVEL - 1
            )
            self.fields[f"target_{n}"] = forms.ModelChoiceField(
                label=_("or take operators of queue"), queryset=others, required=False
            )
        style(self)  # once, with the fields added here
        self.steps: list[int] = []  # the form rows behind the service's overflow.<i>

    @property
    def need_fields(self) -> list[forms.BoundField]:
        return [self[f"need_{s.pk}"] for s in self.skills]

    @property
    def overflow_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"after_{n}"], self[f"drop_{n}"], self[f"target_{n}"]]
            for n in range(OVERFLOW_ROWS)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(OVERFLOW_ROWS):
            after, drop, target = (data.get(f"{k}_{n}") for k in ("after", "drop", "target"))
            if after is None and drop is None and target is None:
                continue
            if after is None:
                self.add_error(f"after_{n}", _("Enter the wait after which this step applies."))
            elif (drop is None) == (target is None):
                self.add_error(
                    f"drop_{n}", _("Lower the levels or name another queue, one of the two.")
                )
        return data

    def config(self) -> QueueConfigIn:
        data = self.cleaned_data
        steps = []
        for n in range(OVERFLOW_ROWS):
            if data.get(f"after_{n}") is None:
                continue
            self.steps.append(n)
            target = data.get(f"target_{n}")
            steps.append(
                OverflowIn(data[f"after_{n}"], data.get(f"drop_{n}"), target.pk if target else None)
            )
        tag = data.get("vip_tag")
        return QueueConfigIn(
            strategy=data["strategy"],
            sticky_wait_s=data["sticky_wait_s"],
            escalate_after_s=data.get("escalate_after_s"),
            use_abc=bool(data.get("use_abc")),
            vip_tag_id=tag.pk if tag else None,
            required={s.pk: data[f"need_{s.pk}"] for s in self.skills if data.get(f"need_{s.pk}")},
            overflow=tuple(steps),
        )

    def error_fields(self, config: QueueConfigIn) -> dict[str, str]:
        """The service's error keys -> this form's fields."""
        names = {"vip_tag_id": "vip_tag"}
        for i, skill_id in enumerate(config.required):
            names[f"required.{i}.min_level"] = f"need_{skill_id}"
            names[f"required.{i}.skill_id"] = f"need_{skill_id}"
        for i, n in enumerate(self.steps):
            names[f"overflow.{i}"] = f"drop_{n}"
            names[f"overflow.{i}.after_wait_s"] = f"after_{n}"
            names[f"overflow.{i}.level_drop"] = f"drop_{n}"
            names[f"overflow.{i}.target_id"] = f"target_{n}"
        return names
