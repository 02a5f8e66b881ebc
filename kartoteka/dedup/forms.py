"""Forms of the duplicates pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kartoteka.core.forms import StyledForm


class SettingsForm(StyledForm):
    auto_merge = forms.BooleanField(
        label=_("merge exact matches automatically"),
        required=False,
        help_text=_(
            "The scheduled scan merges a pair by itself only when the names and an INN, "
            "passport or e-mail match exactly and the score reaches the threshold."
        ),
    )
    threshold = forms.FloatField(
        label=_("lowest score to merge automatically"), min_value=0.5, max_value=1.0
    )
