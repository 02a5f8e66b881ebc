"""Forms of the client pages. They shape input; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kartoteka.accounts.models import User
from kartoteka.clients import field_rules
from kartoteka.clients.models import Channel, Client, Consent, ContactKind, CustomField, Employment
from kartoteka.clients.services import EmailIn, PhoneIn
from kartoteka.core import permissions
from kartoteka.core.forms import StyledForm, style
from kartoteka.core.permissions import Action

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClientForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")
    tags = forms.CharField(
        label=_("tags"), required=False, max_length=2000, help_text=_("Separate with commas.")
    )

    class Meta:
        model = Client
        fields = [
            "last_name",
            "first_name",
            "middle_name",
            "birthday",
            "legal_form",
            "company_name",
            "inn",
            "kpp",
            "ogrn",
            "company_day",
            "website",
            "passport",
            "income",
            "owner",
            "stage",
            "source",
            "external_system",
            "external_id",
            "address",
            "description",
        ]
        widgets = {
            "birthday": DATE,
            "company_day": DATE,
            "address": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, kind: str, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        person = kind == Client.Kind.PERSON
        drop = (
            ("legal_form", "company_name", "kpp", "ogrn", "company_day", "website")
            if person
            else ("last_name", "first_name", "middle_name", "birthday", "passport", "income")
        )
        for name in drop:
            del self.fields[name]
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = User.objects.filter(is_active=True).order_by("first_name", "username")
        if self.instance.pk:
            self.fields["tags"].initial = ", ".join(
                self.instance.tags.values_list("name", flat=True)
            )
            self.fields["version"].initial = self.instance.version
        self.custom_fields = [f for f in CustomField.objects.all() if f.applies(kind)]
        for field in self.custom_fields:
            self.fields[f"cf_{field.key}"] = custom_form_field(
                field, self.instance.custom.get(field.key)
            )
        self._apply_rights(user)
        style(self)

    def _apply_rights(self, user: User) -> None:
        """Drop what the role may not see or change; the service checks again on save."""
        target = self.instance if self.instance.pk else Client
        if not permissions.can(user, Action.REASSIGN, target):
            del self.fields["owner"]
        keys = field_rules.sensitive_keys()
        for name in list(self.fields):
            rule_name = f"custom.{name[3:]}" if name.startswith("cf_") else name
            groups = field_rules.groups_of(rule_name, keys)
            if any(not permissions.can_change(user, g) for g in groups):
                del self.fields[name]
        self.custom_fields = [f for f in self.custom_fields if f"cf_{f.key}" in self.fields]
        self.contacts_editable = permissions.can_change(user, "contacts")

    def _post_clean(self) -> None:
        # The service validates the model; the form only shapes the input.
        pass

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.fields}

    def service_tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]

    def service_custom(self) -> dict[str, Any]:
        return {f.key: self.cleaned_data.get(f"cf_{f.key}") for f in self.custom_fields}


def custom_form_field(field: CustomField, initial: Any) -> forms.Field:
    choices = [(c, c) for c in field.choices]
    kinds: dict[str, forms.Field] = {
        CustomField.Type.TEXT: forms.CharField(max_length=2000),
        CustomField.Type.NUMBER: forms.CharField(max_length=40),
        CustomField.Type.DATE: forms.DateField(widget=DATE),
        CustomField.Type.BOOLEAN: forms.NullBooleanField(),
        CustomField.Type.CHOICE: forms.ChoiceField(choices=[("", "—"), *choices]),
        CustomField.Type.MULTI: forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple
        ),
    }
    form_field = kinds[field.type]
    form_field.label = field.label
    form_field.required = False
    form_field.initial = initial
    return form_field


class PhoneForm(forms.Form):
    number = forms.CharField(label=_("phone"), max_length=40, required=False)
    kind = forms.ChoiceField(
        label=_("kind"), choices=ContactKind.choices, initial=ContactKind.MOBILE
    )


class EmailForm(forms.Form):
    email = forms.CharField(label=_("e-mail"), max_length=254, required=False)
    kind = forms.ChoiceField(label=_("kind"), choices=ContactKind.choices, initial=ContactKind.WORK)


PhoneFormSet = forms.formset_factory(PhoneForm, extra=2, max_num=20, absolute_max=20)
EmailFormSet = forms.formset_factory(EmailForm, extra=2, max_num=20, absolute_max=20)


def styled_formset(formset: forms.BaseFormSet) -> forms.BaseFormSet:
    for form in formset:
        style(form)
    return formset


def phones_from(formset: forms.BaseFormSet) -> list[PhoneIn]:
    return [
        PhoneIn(f.cleaned_data["number"], f.cleaned_data["kind"])
        for f in formset
        if f.cleaned_data.get("number", "").strip()
    ]


def emails_from(formset: forms.BaseFormSet) -> list[EmailIn]:
    return [
        EmailIn(f.cleaned_data["email"], f.cleaned_data["kind"])
        for f in formset
        if f.cleaned_data.get("email", "").strip()
    ]


class JobForm(StyledForm):
    """Where a new person works: filled in when a person is created from a company's card."""

    company = forms.IntegerField(widget=forms.HiddenInput, required=False)
    role = forms.ChoiceField(
        label=_("role"), choices=Employment.Role.choices, initial=Employment.Role.EMPLOYEE
    )
    position = forms.CharField(label=_("position"), max_length=150, required=False)


class LinkForm(StyledForm):
    person = forms.IntegerField(widget=forms.HiddenInput)
    role = forms.ChoiceField(label=_("role"), choices=Employment.Role.choices)
    position = forms.CharField(label=_("position"), max_length=150, required=False)


class ConsentForm(StyledForm):
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices)
    purpose = forms.ChoiceField(label=_("purpose"), choices=Consent.Purpose.choices)
    granted = forms.TypedChoiceField(
        label=_("consent"),
        coerce=lambda v: v == "yes",
        choices=[("yes", _("given")), ("no", _("withdrawn"))],
    )
    source = forms.CharField(
        label=_("source"),
        max_length=200,
        required=False,
        help_text=_("Where the consent came from: a form, a call, a signed paper…"),
    )
    text_version = forms.CharField(label=_("consent text version"), max_length=40, required=False)


class SavedViewForm(StyledForm):
    name = forms.CharField(label=_("view name"), max_length=100)
