"""Forms of the voice-menu editor; the services decide, these only parse."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from kartoteka.core.forms import style
from kartoteka.ivr.models import Menu, Node
from kartoteka.ivr.services import MENU_FIELDS, NODE_FIELDS


def _version(required: bool = True) -> forms.IntegerField:
    """The menu version the page showed: a save naming an older one is refused."""
    return forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, max_value=2**31, required=required
    )


class MenuForm(forms.Form):
    def __init__(self, *args: Any, versioned: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(Menu, fields=MENU_FIELDS))
        self.fields["number"].help_text = _("The number callers dial (DID) or a short number.")
        self.fields["version"] = _version(required=versioned)
        style(self)


class NodeForm(forms.Form):
    def __init__(self, *args: Any, menu: Menu, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(Node, fields=NODE_FIELDS))
        parent = self.fields["parent"]
        parent.queryset = Node.objects.filter(menu=menu)  # type: ignore[attr-defined]
        parent.required = False
        self.fields["digit"].help_text = _(
            "Selects this choice in the menu above; * and # are taken: back and repeat."
        )
        self.fields["key"].help_text = _("Name of the entered value on the call card, e.g. deal.")
        self.fields["version"] = _version()
        style(self)


class TryForm(forms.Form):
    caller = forms.CharField(label=_("Caller number"), max_length=40, required=False)
    digits = forms.RegexField(
        label=_("Digits"), regex=r"^[0-9*#]{0,32}$", max_length=32, required=False
    )
    key = forms.RegexField(
        regex=r"^[0-9*#]$", max_length=1, required=False, widget=forms.HiddenInput
    )
