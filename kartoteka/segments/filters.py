"""The client list's analytics filters: classes, contact cycle and segments.

`clients.queries.ClientFilter` calls `extend()` and `condition()`, so the list page, the API
list and exports (`transfer`) all take `?abc=A&xyz=X&cycle=loyal&rfm_r=5&segment=<id>`.
"""

from __future__ import annotations

import itertools
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kartoteka.segments.models import Cycle, Segment

NAMES = ("segment", "abc", "xyz", "cycle", "rfm_r", "rfm_f", "rfm_m")
SCORES = [("", "—"), *((str(n), str(n)) for n in range(1, 6))]


class SegmentChoice(forms.ModelChoiceField):
    """A segment the viewer may use, whose rules compile for the viewer (no hidden fields)."""

    def __init__(self, user: Any, **kwargs: Any) -> None:
        from kartoteka.segments.queries import visible_segments

        super().__init__(queryset=visible_segments(user), **kwargs)
        self.user = user

    def clean(self, value: Any) -> Any:
        from kartoteka.segments.queries import condition as segment_condition

        segment = super().clean(value)
        if segment is not None:
            try:
                segment_condition(segment, self.user)
            except ValidationError:
                raise forms.ValidationError(
                    _("This segment uses a field you may not see."), code="hidden"
                ) from None
        return segment


def extend(form: forms.Form, user: Any) -> None:
    form.fields["segment"] = SegmentChoice(user, label=_("segment"), required=False)
    form.fields["abc"] = forms.ChoiceField(
        label="ABC", required=False, choices=[("", "—"), ("A", "A"), ("B", "B"), ("C", "C")]
    )
    form.fields["xyz"] = forms.ChoiceField(
        label="XYZ",
        required=False,
        choices=[("", "—"), ("X", "X"), ("Y", "Y"), ("Z", "Z"), ("none", _("no class"))],
    )
    form.fields["cycle"] = forms.ChoiceField(
        label=_("contact cycle"), required=False, choices=[("", "—"), *Cycle.choices]
    )
    for name, label in (
        ("rfm_r", _("RFM recency")),
        ("rfm_f", _("RFM frequency")),
        ("rfm_m", _("RFM money")),
    ):
        form.fields[name] = forms.TypedChoiceField(
            label=label, required=False, choices=SCORES, coerce=int, empty_value=None
        )


def condition(form: forms.Form, user: Any) -> Q:
    from kartoteka.segments.queries import condition as segment_condition

    data = form.cleaned_data
    q = Q()
    if data.get("abc"):
        q &= Q(analytics__abc=data["abc"])
    if data.get("xyz") == "none":
        q &= Q(analytics__abc__gt="", analytics__xyz="")
    elif data.get("xyz"):
        q &= Q(analytics__xyz=data["xyz"])
    if data.get("cycle"):
        q &= Q(analytics__cycle=data["cycle"])
    scores = [data.get(n) for n in ("rfm_r", "rfm_f", "rfm_m")]
    if any(s is not None for s in scores):
        codes = [
            "".join(d)
            for d in itertools.product("12345", repeat=3)
            if all(s is None or int(d[i]) == s for i, s in enumerate(scores))
        ]
        q &= Q(analytics__rfm__in=codes)
    segment: Segment | None = data.get("segment")
    if segment is not None:
        q &= segment_condition(segment, user)  # checked by SegmentChoice.clean
    return q
