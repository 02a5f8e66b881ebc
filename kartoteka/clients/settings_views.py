"""Administrator pages for clients: custom fields and completeness weights."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kartoteka.clients import completeness, tasks
from kartoteka.clients.models import Client, CompletenessWeight, CustomField
from kartoteka.core import permissions
from kartoteka.core.forms import StyledForm, style
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor


class CustomFieldForm(forms.ModelForm):
    choices_text = forms.CharField(
        label=gettext_lazy("choices"),
        required=False,
        max_length=4000,
        help_text=gettext_lazy("For choice fields: one per line."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = CustomField
        fields = ["label", "key", "type", "applies_to", "required", "sensitive", "position"]

    def clean(self) -> dict:
        data = super().clean() or {}
        choices = [c.strip() for c in data.get("choices_text", "").splitlines() if c.strip()]
        if data.get("type") in (CustomField.Type.CHOICE, CustomField.Type.MULTI) and not choices:
            self.add_error("choices_text", _("List the choices, one per line."))
        self.instance.choices = choices
        return data


def _require_configure(request: HttpRequest) -> None:
    permissions.require(actor(request), Action.CONFIGURE)


def custom_fields(request: HttpRequest) -> HttpResponse:
    _require_configure(request)
    form = CustomFieldForm(request.POST or None)
    style(form)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Field added."))
        return redirect("clients:custom_fields")
    return render(
        request,
        "clients/settings_fields.html",
        {"form": form, "fields": CustomField.objects.all()},
        status=422 if form.errors else 200,
    )


@require_POST
def custom_field_delete(request: HttpRequest, field_id: int) -> HttpResponse:
    _require_configure(request)
    CustomField.objects.filter(pk=field_id).delete()
    messages.success(request, _("Field removed; values already stored stay in the history."))
    return redirect("clients:custom_fields")


def _weight_fields(kind: str) -> list[str]:
    custom = [f"custom.{f.key}" for f in CustomField.objects.all() if f.applies(kind)]
    return [*completeness.DEFAULT_WEIGHTS[kind], "tags", *custom]


class WeightsForm(StyledForm):
    def __init__(self, *args: object, kind: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        current = completeness.weights(kind)
        for name in _weight_fields(kind):
            self.fields[name] = forms.IntegerField(
                required=False,
                label=_field_label(name),
                min_value=0,
                max_value=100,
                initial=current.get(name, 0),
            )
        style(self)


def _field_label(name: str) -> str:
    if name.startswith("custom."):
        field = CustomField.objects.filter(key=name.removeprefix("custom.")).first()
        return field.label if field else name
    labels = {
        "phone": _("phone"),
        "email": _("e-mail"),
        "tags": _("tags"),
        "staff": _("people at the company"),
    }
    if name in labels:
        return labels[name]
    return str(getattr(Client._meta.get_field(name), "verbose_name", name))


def completeness_weights(request: HttpRequest) -> HttpResponse:
    _require_configure(request)
    asked = request.GET.get("kind", "")
    kind = asked if asked in Client.Kind.values else Client.Kind.PERSON.value
    form = WeightsForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            CompletenessWeight.objects.filter(kind=kind).delete()
            CompletenessWeight.objects.bulk_create(
                CompletenessWeight(kind=kind, field=name, weight=weight)
                for name, weight in form.cleaned_data.items()
                if weight
            )
            transaction.on_commit(lambda: tasks.recompute_completeness.enqueue(kind))
        messages.success(
            request, _("Weights saved; completeness is being recomputed in the background.")
        )
        return redirect(f"{request.path}?kind={kind}")
    return render(
        request,
        "clients/settings_completeness.html",
        {"form": form, "kind": kind, "kinds": Client.Kind.choices},
    )
