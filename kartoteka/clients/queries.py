"""Reads of clients that pages, the API and exports share; always scoped by permissions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import FloatField, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.accounts.models import User
from kartoteka.clients import field_rules, search
from kartoteka.clients.models import Client, CustomField, Employment, Tag
from kartoteka.core import permissions
from kartoteka.core.forms import lookups, parse_id, style
from kartoteka.core.pagination import Page, keyset_page
from kartoteka.core.permissions import Action, AnyUser

SORTS = {
    "name": _("name"),
    "created_at": _("created"),
    "last_contact_at": _("last contact"),
    "completeness": _("completeness"),
}

# Columns a user may show in the list: key -> (label, fields the row needs).
COLUMNS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "name": (_("name"), ("name", "kind")),
    "kind": (_("kind"), ("kind",)),
    "phone": (_("phone"), ("primary_phone",)),
    "email": (_("e-mail"), ("primary_email",)),
    "owner": (_("owner"), ("owner__username", "owner__first_name", "owner__last_name")),
    "stage": (_("stage"), ("stage",)),
    "source": (_("source"), ("source",)),
    "inn": (_("INN"), ("inn",)),
    "completeness": (_("completeness"), ("completeness",)),
    "created_at": (_("created"), ("created_at",)),
    "last_contact_at": (_("last contact"), ("last_contact_at",)),
    "tags": (_("tags"), ()),
}
DEFAULT_COLUMNS = ["name", "phone", "email", "owner", "stage", "completeness", "last_contact_at"]


def visible_columns(hidden: set[str]) -> dict[str, Any]:
    """The list columns whose fields the viewer may see."""
    return {k: label for k, (label, needs) in COLUMNS.items() if not set(needs) & hidden}


def visible_clients(user: AnyUser, action: Action = Action.VIEW) -> QuerySet[Client]:
    return permissions.scope(user, action, Client.objects.all())


# Filter field -> ORM lookup, for the filters that are a plain comparison.
SIMPLE_FILTERS = {
    "kind": "kind",
    "stage": "stage",
    "source": "source",
    "completeness_below": "completeness__lt",
    "created_from": "created_at__date__gte",
    "created_to": "created_at__date__lte",
    "contact_from": "last_contact_at__date__gte",
    "contact_to": "last_contact_at__date__lte",
}


class ClientFilter(forms.Form):
    """The list's filters, shared by the page and the API; unknown keys are ignored."""

    q = forms.CharField(label=_("search"), required=False, max_length=200)
    kind = forms.ChoiceField(
        label=_("kind"), required=False, choices=[("", "—"), *Client.Kind.choices]
    )
    owner = forms.CharField(label=_("owner"), required=False, max_length=20)
    tag = forms.CharField(label=_("tag"), required=False, max_length=60)
    stage = forms.ChoiceField(
        label=_("stage"), required=False, choices=[("", "—"), *Client.Stage.choices]
    )
    source = forms.ChoiceField(
        label=_("source"), required=False, choices=[("", "—"), *Client.Source.choices]
    )
    completeness_below = forms.IntegerField(
        label=_("completeness below, %"), required=False, min_value=1, max_value=101
    )
    created_from = forms.DateField(label=_("created from"), required=False)
    created_to = forms.DateField(label=_("created to"), required=False)
    contact_from = forms.DateField(label=_("last contact from"), required=False)
    contact_to = forms.DateField(label=_("last contact to"), required=False)
    no_contact_days = forms.IntegerField(
        label=_("no contact for days"), required=False, min_value=1, max_value=36500
    )
    sort = forms.CharField(required=False, max_length=60)

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        every_custom = list(CustomField.objects.all())
        self.hidden = field_rules.hidden_fields(user, every_custom)
        self.custom_fields = [f for f in every_custom if f"custom.{f.key}" not in self.hidden]
        for field in self.custom_fields:
            self.fields[f"cf_{field.key}"] = forms.CharField(
                label=field.label, required=False, max_length=200
            )
        for name in ("created_from", "created_to", "contact_from", "contact_to"):
            self.fields[name].widget = forms.DateInput(attrs={"type": "date"})
        from kartoteka.segments import filters as analytics_filters

        analytics_filters.extend(self, user)
        style(self)

    def clean_owner(self) -> str:
        value = self.cleaned_data["owner"]
        if value and value not in ("me", "none") and parse_id(value) is None:
            raise forms.ValidationError(_("Choose a user, 'me' or 'none'."))
        return value

    def clean_sort(self) -> str:
        value = self.cleaned_data["sort"] or "name"
        key = value.removeprefix("-")
        custom_keys = {f"custom.{f.key}" for f in self.custom_fields}
        if key not in SORTS and key not in custom_keys:
            raise forms.ValidationError(_("Cannot sort by %(value)s."), params={"value": value})
        return value

    def apply(self, queryset: QuerySet[Client]) -> QuerySet[Client]:
        data = self.cleaned_data
        queryset = queryset.filter(self._conditions(data))
        for field in self.custom_fields:
            value = data.get(f"cf_{field.key}")
            if value:
                queryset = queryset.filter(_custom_condition(field, value))
        return queryset

    def _conditions(self, data: dict[str, Any]) -> Q:
        q = lookups(data, SIMPLE_FILTERS)
        owner = data.get("owner")
        if owner == "me":
            q &= Q(owner=self.user)
        elif owner == "none":
            q &= Q(owner__isnull=True)
        elif owner:
            q &= Q(owner_id=parse_id(owner))
        if data.get("tag"):
            q &= Q(tags__in=Tag.objects.filter(name=data["tag"]))
        if data.get("no_contact_days"):
            since = timezone.now() - dt.timedelta(days=data["no_contact_days"])
            q &= Q(last_contact_at__lt=since) | Q(last_contact_at__isnull=True)
        from kartoteka.segments import filters as analytics_filters

        return q & analytics_filters.condition(self, self.user)


def _custom_path(field: CustomField) -> Any:
    text = KeyTextTransform(field.key, "custom")
    if field.type == CustomField.Type.NUMBER:
        return Cast(text, FloatField())
    return text


def _custom_condition(field: CustomField, value: str) -> Q:
    from kartoteka.clients.custom import clean_value

    lookup = f"custom__{field.key}"
    if field.type == CustomField.Type.TEXT:
        return Q(**{f"{lookup}__icontains": value})
    if field.type == CustomField.Type.MULTI:
        return Q(**{f"{lookup}__icontains": f'"{value}"'})
    try:
        cleaned = clean_value(field, value)
    except forms.ValidationError:
        return Q(pk__in=[])
    return Q(**{lookup: cleaned})


def only_columns(queryset: QuerySet[Client], columns: Iterable[str]) -> QuerySet[Client]:
    """Select just what the chosen list columns show (and what ordering needs)."""
    fields = {"id", "name", "kind", "created_at", "completeness", "last_contact_at"}
    for column in columns:
        fields.update(COLUMNS[column][1] if column in COLUMNS else ("custom",))
    if any(f.startswith("owner__") for f in fields):
        queryset = queryset.select_related("owner")
    return queryset.only(*fields)


def search_visible(queryset: QuerySet[Client], query: str, hidden: set[str]) -> QuerySet[Client]:
    """Search that reveals nothing through fields the viewer may not see."""
    restricted = bool({"primary_email", "inn"} & hidden)
    if restricted and search.is_contact_query(query):
        return queryset.none()
    return search.search(queryset, query, names_only=restricted)


def list_clients(
    user: User | None,
    form: ClientFilter,
    cursor: str | None,
    size: int,
    columns: Iterable[str] | None = None,
) -> Page[Client] | QuerySet[Client]:
    """A page of the list; with a search query, the ranked best matches instead.

    With `columns`, only those columns are read; otherwise whole rows with their owner.
    """
    queryset = form.apply(visible_clients(user))
    if columns is None:
        queryset = queryset.select_related("owner")
    else:
        queryset = only_columns(queryset, columns)
    query = form.cleaned_data.get("q")
    if query:
        # Rank the best candidates, then show a page of them: rendering 200 rows costs more
        # than finding them.
        return search_visible(queryset, query, form.hidden)[:size]
    sort = form.cleaned_data.get("sort") or "name"
    key, desc = sort.removeprefix("-"), sort.startswith("-")
    if key.startswith("custom."):
        field = next(f for f in form.custom_fields if f"custom.{f.key}" == key)
        queryset = queryset.annotate(sort_value=_custom_path(field))
        key = "sort_value"
    return keyset_page(queryset, key, desc, cursor, size)


def links_of(client: Client, viewer: AnyUser) -> list[Employment]:
    """A person's jobs, or a company's staff, among the records `viewer` may see.

    The few links are read first and their other ends checked by id: a subquery over every
    visible client makes SQLite scan the whole table.
    """
    own_side = {"person": client} if client.is_person else {"company": client}
    rows = list(Employment.objects.filter(**own_side).select_related("person", "company"))
    other = [r.company_id if client.is_person else r.person_id for r in rows]
    visible = set(visible_clients(viewer).filter(pk__in=other).values_list("pk", flat=True))
    return [r for r, pk in zip(rows, other, strict=True) if pk in visible]
