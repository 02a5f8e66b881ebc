"""The client list's analytics filters: classes, contact cycle and segments.

`clients.queries.ClientFilter` calls `extend()` and `condition()`, so the list page, the API
list and exports (`transfer`) all take `?abc=A&xyz=X&cycle=loyal&rfm_r=5&segment=<id>`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.segments.models import ClassChange, Cycle, Segment

NAMES = ("segment", "abc", "xyz", "cycle", "rfm_r", "rfm_f", "rfm_m")
# The dashboards' drill-downs: ?bought=2026-05, ?cohort=2026-01, ?won=…, ?lost=…,
# ?moved=lost:won_back&moved_from=2026-01-01&moved_to=2026-06-30.
DRILL_NAMES = ("bought", "cohort", "won", "lost", "moved", "moved_from", "moved_to")
MONTH = r"20[0-9]{2}-(0[1-9]|1[0-2])"
MOVES = [("", "—")] + [
    (f"{a}:{b}", f"{la} → {lb}") for a, la in Cycle.choices for b, lb in Cycle.choices if a != b
]
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
    _drill_fields(form)


def _drill_fields(form: forms.Form) -> None:
    for name, label in (
        ("bought", _("bought in month")),
        ("cohort", _("first purchase in month")),
        ("won", _("deal won in month")),
        ("lost", _("deal lost in month")),
    ):
        form.fields[name] = forms.RegexField(
            label=label,
            regex=MONTH,
            required=False,
            max_length=7,
            error_messages={"invalid": _("Enter a month as YYYY-MM.")},
        )
    form.fields["moved"] = forms.ChoiceField(
        label=_("moved between stages"), required=False, choices=MOVES
    )
    form.fields["moved_from"] = forms.DateField(label=_("moved from"), required=False)
    form.fields["moved_to"] = forms.DateField(label=_("moved to"), required=False)


def _month_bounds(text: str) -> tuple[dt.datetime, dt.datetime]:
    from kartoteka.sales.report_filters import add_months

    zone = timezone.get_current_timezone()
    start = dt.date(int(text[:4]), int(text[5:7]), 1)
    after = add_months(start, 1)
    return (
        dt.datetime.combine(start, dt.time(), zone),
        dt.datetime.combine(after, dt.time(), zone),
    )


def _drill_condition(data: dict[str, Any]) -> Q:
    """Clients behind a dashboard number: each a subquery on an indexed column."""
    from kartoteka.activities.models import Interaction
    from kartoteka.sales.models import Deal, Stage

    q = Q()
    if data.get("bought"):
        start, after = _month_bounds(data["bought"])
        bought = Interaction.objects.filter(
            kind=Interaction.Kind.PURCHASE, occurred_at__gte=start, occurred_at__lt=after
        )
        q &= Q(pk__in=bought.values("client_id"))
    if data.get("cohort"):
        start, after = _month_bounds(data["cohort"])
        q &= Q(analytics__first_purchase_at__gte=start, analytics__first_purchase_at__lt=after)
    for name, kind in (("won", Stage.Kind.WON), ("lost", Stage.Kind.LOST)):
        if data.get(name):
            start, after = _month_bounds(data[name])
            deals = Deal.objects.filter(stage__kind=kind, closed_at__gte=start, closed_at__lt=after)
            q &= Q(pk__in=deals.values("client_id"))
    if data.get("moved"):
        old, _sep, new = data["moved"].partition(":")
        moves = ClassChange.objects.filter(measure=ClassChange.Measure.CYCLE, old=old, new=new)
        zone = timezone.get_current_timezone()
        if data.get("moved_from"):
            moves = moves.filter(at__gte=dt.datetime.combine(data["moved_from"], dt.time(), zone))
        if data.get("moved_to"):
            end = dt.datetime.combine(data["moved_to"] + dt.timedelta(days=1), dt.time(), zone)
            moves = moves.filter(at__lt=end)
        q &= Q(pk__in=moves.values("client_id"))
    return q


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
    q &= _drill_condition(data)
    segment: Segment | None = data.get("segment")
    if segment is not None:
        q &= segment_condition(segment, user)  # checked by SegmentChoice.clean
    return q
