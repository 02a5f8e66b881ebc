"""Forms of the sales pages: filters, a deal, the fields a stage asks for, a new pipeline."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kartoteka.accounts.models import User
from kartoteka.activities.services import CURRENCIES
from kartoteka.clients.models import Client
from kartoteka.core.forms import StyledForm, parse_id, style
from kartoteka.sales.blueprints import BLUEPRINTS
from kartoteka.sales.models import Deal, LossReason, Pipeline, Stage

CURRENCY_CHOICES = [(c, c) for c in sorted(CURRENCIES)]
STATUS_CHOICES = [("", _("any")), *Stage.Kind.choices]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DealFilter(StyledForm):
    """The board's and the list's filters; request keys are read here and nowhere else."""

    q = forms.CharField(label=_("title contains"), required=False, max_length=100)
    owner = forms.CharField(label=_("owner"), required=False, max_length=20)
    stage = forms.CharField(required=False, max_length=20)
    status = forms.ChoiceField(label=_("status"), required=False, choices=STATUS_CHOICES)

    def clean_owner(self) -> str:
        value = self.cleaned_data["owner"]
        if value and value not in ("me", "none") and parse_id(value) is None:
            raise forms.ValidationError(_("Choose a user, 'me' or 'none'."))
        return value

    def clean_stage(self) -> int | None:
        return parse_id(self.cleaned_data["stage"])

    def arguments(self, user: User) -> dict[str, Any]:
        """Keyword arguments of queries.filter_deals."""
        data = self.cleaned_data if self.is_valid() else {}
        owner = data.get("owner") or None
        return {
            "q": data.get("q") or "",
            "owner": user.pk if owner == "me" else owner,
            "stage": data.get("stage"),
            "status": data.get("status") or None,
        }


class DealForm(StyledForm):
    """A deal's fields; the client is chosen from a search (a select of 1M clients would not do)."""

    title = forms.CharField(label=_("title"), max_length=200)
    client = forms.IntegerField(label=_("client"), widget=forms.HiddenInput, required=False)
    pipeline = forms.ModelChoiceField(
        label=_("pipeline"), queryset=Pipeline.objects.none(), required=False
    )
    owner = forms.ModelChoiceField(label=_("owner"), queryset=User.objects.none(), required=False)
    amount = forms.DecimalField(
        label=_("amount"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    currency = forms.ChoiceField(label=_("currency"), choices=CURRENCY_CHOICES, initial="RUB")
    expected_close = forms.DateField(label=_("expected close date"), required=False, widget=DATE)
    source = forms.ChoiceField(
        label=_("source"), required=False, choices=[("", "—"), *Client.Source.choices]
    )
    next_step = forms.CharField(label=_("next step"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, pipelines: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = User.objects.filter(is_active=True).order_by("first_name", "username")
        pipeline = self.fields["pipeline"]
        assert isinstance(pipeline, forms.ModelChoiceField)
        if pipelines is None:
            del self.fields["pipeline"]
        else:
            pipeline.queryset = pipelines

    def clean_client(self) -> int:
        value = self.cleaned_data.get("client")
        if value is None:
            raise forms.ValidationError(_("Find the client and choose it from the list."))
        return int(value)

    def service_fields(self, client: Client | None) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {
            name: data.get(name)
            for name in (
                "title",
                "owner",
                "amount",
                "currency",
                "expected_close",
                "source",
                "next_step",
            )
        }
        fields["client"] = client
        if data.get("pipeline") is not None:
            fields["pipeline"] = data["pipeline"]
        return fields

    @staticmethod
    def initial_for(deal: Deal) -> dict[str, Any]:
        names = ("title", "amount", "currency", "expected_close", "source", "next_step", "version")
        initial = {name: getattr(deal, name) for name in names}
        initial.update(client=deal.client_id, owner=deal.owner_id)
        return initial


class AskForm(forms.Form):
    """Exactly the fields `asked` (names from services.REQUIRABLE) that a stage needs."""

    def __init__(self, *args: Any, asked: list[str], people: list[Client], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked = asked
        builders = {
            "amount": lambda: forms.DecimalField(
                label=_("amount"), min_value=0, max_digits=14, decimal_places=2
            ),
            "expected_close": lambda: forms.DateField(label=_("expected close date"), widget=DATE),
            "next_step": lambda: forms.CharField(label=_("next step"), max_length=300),
            "source": lambda: forms.ChoiceField(label=_("source"), choices=Client.Source.choices),
            "contacts": lambda: forms.TypedMultipleChoiceField(
                label=_("contact persons"),
                coerce=int,
                choices=[(p.pk, p.name) for p in people],
                widget=forms.CheckboxSelectMultiple,
                help_text="" if people else _("Link people to the client's company first."),
            ),
            "loss_reason": lambda: forms.ModelChoiceField(
                label=_("loss reason"), queryset=LossReason.objects.all()
            ),
        }
        for name in asked:
            if name in builders:
                self.fields[name] = builders[name]()
            if name == "amount":
                self.fields["currency"] = forms.ChoiceField(
                    label=_("currency"), choices=CURRENCY_CHOICES, initial="RUB"
                )
        style(self)

    def service_fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "contacts"}


class BlueprintForm(StyledForm):
    blueprint = forms.ChoiceField(
        label=_("ready-made pipeline"),
        choices=[(key, plan["name"]) for key, plan in BLUEPRINTS.items()],
    )
    name = forms.CharField(
        label=_("name"),
        max_length=100,
        required=False,
        help_text=_("Leave empty to use the ready-made pipeline's name."),
    )


class StageForm(StyledForm):
    name = forms.CharField(label=_("name"), max_length=100)
    position = forms.IntegerField(label=_("order"), min_value=0, max_value=1000)
    probability = forms.IntegerField(label=_("probability, %"), min_value=0, max_value=100)
    kind = forms.ChoiceField(label=_("kind"), choices=Stage.Kind.choices)
    required_fields = forms.MultipleChoiceField(
        label=_("required fields"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from kartoteka.sales.services import REQUIRABLE

        field = self.fields["required_fields"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [
            (n, getattr(Deal._meta.get_field(n), "verbose_name", n)) for n in REQUIRABLE
        ]
