"""Segment rules: validated JSON, compiled to a Q by explicit mapping (never request keys as ORM
keyword names — see docs/security and SECURITY.md).

    {"match": "all" | "any", "conditions": [condition | group, …]}
    condition: {"field": "<name>", "op": "<op>", "value": …, ["kind"|"days"|"status": …]}

A field is one of `FIELDS` (client fields, owner, tag, classes, interaction, purchase and deal
aggregates) or "custom.<key>" for a custom field the viewer may see. Each field allows the
operators its kind allows; `compile_rules` answers a ValidationError naming the condition's
path ("rules.conditions.1.value") for anything else.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, FloatField, OuterRef, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    LessThan,
    LessThanOrEqual,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client, CustomField, Tag
from kartoteka.core.forms import parse_id
from kartoteka.core.permissions import AnyUser
from kartoteka.segments.models import Cycle

MAX_CONDITIONS = 50
MAX_DEPTH = 3
NUMBER_OPS = ("eq", "ne", "gt", "gte", "lt", "lte")
DATE_OPS = ("after", "before", "within_days", "older_than_days", "exists", "never")
CHOICE_OPS = ("eq", "ne", "in")


@dataclass(frozen=True)
class FieldSpec:
    type: str  # choice, number, date, owner, tag, rfm, count, sum, last
    label: str
    choices: tuple[str, ...] = ()
    path: str = ""
    extras: tuple[str, ...] = ()
    custom: bool = False


def _choices(pairs: Any) -> tuple[str, ...]:
    return tuple(value for value, _label in pairs)


CLASS_CHOICES = {"abc": ("A", "B", "C", ""), "xyz": ("X", "Y", "Z", "")}
FIELDS: dict[str, FieldSpec] = {
    "kind": FieldSpec("choice", "kind", _choices(Client.Kind.choices), "kind"),
    "stage": FieldSpec("choice", "stage", _choices(Client.Stage.choices), "stage"),
    "source": FieldSpec("choice", "source", ("", *_choices(Client.Source.choices)), "source"),
    "completeness": FieldSpec("number", "completeness", path="completeness"),
    "created_at": FieldSpec("date", "created", path="created_at"),
    "last_contact_at": FieldSpec("date", "last contact", path="last_contact_at"),
    "owner": FieldSpec("owner", "owner"),
    "tag": FieldSpec("tag", "tag"),
    "abc": FieldSpec("choice", "ABC", CLASS_CHOICES["abc"], "analytics__abc"),
    "xyz": FieldSpec("choice", "XYZ", CLASS_CHOICES["xyz"], "analytics__xyz"),
    "cycle": FieldSpec("choice", "contact cycle", _choices(Cycle.choices), "analytics__cycle"),
    "rfm.r": FieldSpec("rfm", "RFM recency", path="0"),
    "rfm.f": FieldSpec("rfm", "RFM frequency", path="1"),
    "rfm.m": FieldSpec("rfm", "RFM money", path="2"),
    "interactions.count": FieldSpec("count", "interactions", extras=("kind", "days")),
    "interactions.last": FieldSpec("last", "last interaction", extras=("kind",)),
    "purchases.count": FieldSpec("count", "purchases", extras=("days",)),
    "purchases.sum": FieldSpec("sum", "purchases, sum", extras=("days",)),
    "purchases.last": FieldSpec("last", "last purchase"),
    "deals.count": FieldSpec("count", "deals", extras=("status", "days")),
}
OPS = {
    "choice": CHOICE_OPS,
    "number": NUMBER_OPS,
    "date": DATE_OPS,
    "owner": ("eq", "ne", "isnull"),
    "tag": ("has", "has_not"),
    "rfm": NUMBER_OPS,
    "count": NUMBER_OPS,
    "sum": NUMBER_OPS,
    "last": DATE_OPS,
    "text": ("eq", "contains"),
    "boolean": ("eq",),
    "multi": ("has", "has_not"),
}
CUSTOM_TYPES: dict[str, str] = {
    CustomField.Type.TEXT: "text",
    CustomField.Type.NUMBER: "number",
    CustomField.Type.DATE: "cdate",
    CustomField.Type.CHOICE: "choice",
    CustomField.Type.MULTI: "multi",
    CustomField.Type.BOOLEAN: "boolean",
}
OPS["cdate"] = ("eq", "after", "before")
COMPARE = {
    "eq": Exact,
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
}


class RuleError(ValidationError):
    pass


def _fail(path: str, message: str) -> RuleError:
    return RuleError({path: [message]})


class Compiler:
    """Compiles one rule tree for one viewer (custom fields they may see, "me" as owner)."""

    def __init__(self, user: AnyUser, now: dt.datetime | None = None) -> None:
        from kartoteka.clients import field_rules

        self.user = user
        self.now = now or timezone.now()
        every = list(CustomField.objects.all())
        hidden = field_rules.hidden_fields(user, every)
        self.custom = {f.key: f for f in every if f"custom.{f.key}" not in hidden}
        self.count = 0

    def compile(self, rules: Any, path: str = "rules", depth: int = 1) -> Q:
        if not isinstance(rules, dict) or set(rules) - {"match", "conditions"}:
            raise _fail(path, _('Send {"match": "all" or "any", "conditions": [...]}.'))
        match = rules.get("match", "all")
        if match not in ("all", "any"):
            raise _fail(f"{path}.match", _("Choose all or any."))
        conditions = rules.get("conditions")
        if not isinstance(conditions, list) or not conditions:
            raise _fail(f"{path}.conditions", _("Add at least one condition."))
        result = Q()
        for index, item in enumerate(conditions):
            self.count += 1
            if self.count > MAX_CONDITIONS:
                raise _fail(path, _("At most %(n)d conditions.") % {"n": MAX_CONDITIONS})
            here = f"{path}.conditions.{index}"
            if isinstance(item, dict) and "conditions" in item:
                if depth >= MAX_DEPTH:
                    raise _fail(here, _("Groups nest at most %(n)d deep.") % {"n": MAX_DEPTH})
                q = self.compile(item, here, depth + 1)
            else:
                q = self.condition(item, here)
            result = result & q if match == "all" else result | q
        return result

    def condition(self, item: Any, path: str) -> Q:
        if not isinstance(item, dict) or not isinstance(item.get("field"), str):
            raise _fail(path, _("A condition needs a field, an operator and a value."))
        name = item["field"]
        spec = self._spec(name, path)
        allowed = {"field", "op", "value", *spec.extras}
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise _fail(f"{path}.{unknown[0]}", _("This key is not allowed here."))
        op = item.get("op")
        if op not in OPS[spec.type]:
            raise _fail(
                f"{path}.op", _("Choose one of: %(ops)s.") % {"ops": ", ".join(OPS[spec.type])}
            )
        builder: Callable[[FieldSpec, str, Any, dict[str, Any], str], Q] = getattr(
            self, f"_{spec.type}"
        )
        return builder(spec, op, item.get("value"), item, path)

    def _spec(self, name: str, path: str) -> FieldSpec:
        if name in FIELDS:
            return FIELDS[name]
        if name.startswith("custom."):
            field = self.custom.get(name.removeprefix("custom."))
            # A key with "__" could read as a lookup: such fields are not offered to rules.
            if field is not None and "__" not in field.key:
                kind, choices = CUSTOM_TYPES[field.type], tuple(map(str, field.choices))
                return FieldSpec(kind, field.label, choices, field.key, custom=True)
        raise _fail(f"{path}.field", _("Unknown field %(name)s.") % {"name": name[:60]})

    # --- plain fields -----------------------------------------------------------------------

    def _choice(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        values = value if op == "in" else [value]
        if not isinstance(values, list) or not values or any(v not in spec.choices for v in values):
            choices = ", ".join(c or "—" for c in spec.choices)
            raise _fail(f"{path}.value", _("Choose from: %(c)s.") % {"c": choices})
        if spec.custom:
            key = KeyTextTransform(spec.path, "custom")
            q = Q()
            for choice in values:
                q |= Q(Exact(key, choice))
        else:
            q = Q(**{f"{spec.path}__in": values})
        return ~q if op == "ne" else q

    def _number(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        number = _number(value, f"{path}.value")
        target: Any = (
            Cast(KeyTextTransform(spec.path, "custom"), FloatField())
            if spec.custom
            else F(spec.path)
        )
        if op == "ne":
            return ~Q(Exact(target, number))
        return Q(COMPARE[op](target, float(number) if spec.custom else number))

    def _date(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        if op == "exists":
            return Q(**{f"{spec.path}__isnull": False})
        if op == "never":
            return Q(**{f"{spec.path}__isnull": True})
        since = self._moment(op, value, f"{path}.value")
        if op in ("after", "within_days"):
            return Q(**{f"{spec.path}__gte": since})
        return Q(**{f"{spec.path}__lt": since}) | Q(**{f"{spec.path}__isnull": True})

    def _moment(self, op: str, value: Any, path: str) -> dt.datetime:
        if op in ("within_days", "older_than_days"):
            return self.now - dt.timedelta(days=_days(value, path))
        day = _date(value, path)
        moment = dt.datetime.combine(day, dt.time(), timezone.get_current_timezone())
        return moment + dt.timedelta(days=1) if op == "after" else moment

    def _owner(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        if op == "isnull":
            if not isinstance(value, bool):
                raise _fail(f"{path}.value", _("Enter true or false."))
            return Q(owner__isnull=value)
        owner_id = getattr(self.user, "pk", None) if value == "me" else parse_id(value)
        if owner_id is None:
            raise _fail(f"{path}.value", _("Choose a user by id, or 'me'."))
        q = Q(owner_id=owner_id)
        return ~q if op == "ne" else q

    def _tag(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        if not isinstance(value, str) or not value or len(value) > 60:
            raise _fail(f"{path}.value", _("Enter a tag name."))
        q = Q(
            pk__in=Client.tags.through.objects.filter(
                tag__in=Tag.objects.filter(name=value)
            ).values("client_id")
        )
        return ~q if op == "has_not" else q

    def _rfm(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        score = _number(value, f"{path}.value")
        if score not in range(1, 6):
            raise _fail(f"{path}.value", _("An RFM score is 1 to 5."))
        test = {
            "eq": score.__eq__, "ne": score.__ne__, "gt": score.__lt__, "gte": score.__le__,
            "lt": score.__gt__, "lte": score.__ge__,
        }[op]  # fmt: skip
        position = int(spec.path)
        codes = [
            "".join(digits)
            for digits in itertools.product("12345", repeat=3)
            if test(int(digits[position]))
        ]
        return Q(analytics__rfm__in=codes)

    # --- custom fields ----------------------------------------------------------------------

    def _text(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        if not isinstance(value, str) or len(value) > 200:
            raise _fail(f"{path}.value", _("Enter a text of at most 200 characters."))
        key = KeyTextTransform(spec.path, "custom")
        return Q(IContains(key, value)) if op == "contains" else Q(Exact(key, value))

    def _boolean(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        if not isinstance(value, bool):
            raise _fail(f"{path}.value", _("Enter true or false."))
        # The key has no "__" (see _spec): a JSON key lookup, which compares booleans on both
        # databases.
        return Q(**{f"custom__{spec.path}": value})

    def _multi(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        if value not in spec.choices:
            raise _fail(f"{path}.value", _("Choose from: %(c)s.") % {"c": ", ".join(spec.choices)})
        q = Q(IContains(KeyTextTransform(spec.path, "custom"), f'"{value}"'))
        return ~q if op == "has_not" else q

    def _cdate(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        day = _date(value, f"{path}.value").isoformat()
        key = KeyTextTransform(spec.path, "custom")
        lookup = {"eq": Exact, "after": GreaterThan, "before": LessThan}[op]
        return Q(lookup(key, day))

    # --- aggregates over related rows -------------------------------------------------------

    def _rows(self, spec: FieldSpec, item: dict[str, Any], path: str) -> QuerySet[Any]:
        from kartoteka.sales.models import Deal, Stage

        name = item["field"]
        days = item.get("days")
        since = (
            self.now - dt.timedelta(days=_days(days, f"{path}.days")) if days is not None else None
        )
        if name.startswith("deals."):
            deals = Deal.objects.all()
            status = item.get("status")
            if status is not None:
                if status not in Stage.Kind.values:
                    raise _fail(f"{path}.status", _("Choose open, won or lost."))
                deals = deals.filter(stage__kind=status)
            return deals.filter(created_at__gte=since) if since else deals
        rows = Interaction.objects.all()
        if name.startswith("purchases."):
            rows = rows.filter(
                kind=Interaction.Kind.PURCHASE, currency=_currency(), amount__isnull=False
            )
        elif item.get("kind") is not None:
            if item["kind"] not in Interaction.Kind.values:
                raise _fail(f"{path}.kind", _("Choose an interaction kind."))
            rows = rows.filter(kind=item["kind"])
        return rows.filter(occurred_at__gte=since) if since else rows

    def _aggregate(self, rows: QuerySet[Any], measure: Any, op: str, value: Any) -> Q:
        """Clients whose `measure` over `rows` compares as asked; a client with no rows counts
        as zero (so "fewer than 3" includes them, as the complement of "at least 3")."""
        grouped = rows.order_by().values("client_id").annotate(v=measure)

        def having(lookup: str, bound: Any) -> Q:
            return Q(pk__in=grouped.filter(**{f"v__{lookup}": bound}).values("client_id"))

        if op == "gt":
            return having("gt", value)
        if op == "gte":
            return Q() if value <= 0 else having("gte", value)
        if op == "lt":
            return ~having("gte", value)
        if op == "lte":
            return ~having("gt", value)
        if op == "eq":
            return ~having("gt", 0) if value == 0 else having("exact", value)
        return having("gt", 0) if value == 0 else ~having("exact", value)  # ne

    def _count(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        number = _number(value, f"{path}.value")
        if number < 0 or number != int(number):
            raise _fail(f"{path}.value", _("Enter a whole number, 0 or more."))
        return self._aggregate(self._rows(spec, item, path), Count("id"), op, int(number))

    def _sum(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        number = _number(value, f"{path}.value")
        if number < 0:
            raise _fail(f"{path}.value", _("Enter an amount, 0 or more."))
        return self._aggregate(self._rows(spec, item, path), Sum("amount"), op, number)

    def _last(self, spec: FieldSpec, op: str, value: Any, item: dict[str, Any], path: str) -> Q:
        rows = self._rows(spec, item, path)
        if op in ("exists", "never"):
            q = Q(Exists(rows.filter(client_id=OuterRef("pk"))))
            return q if op == "exists" else ~q
        since = self._moment(op, value, f"{path}.value")
        recent = Q(pk__in=rows.filter(occurred_at__gte=since).values("client_id"))
        return recent if op in ("after", "within_days") else ~recent


def _currency() -> str:
    from kartoteka.segments.config import current

    return current().currency


def _number(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _fail(path, _("Enter a number."))
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _fail(path, _("Enter a number.")) from None
    if not number.is_finite() or abs(number) > 10**12:
        raise _fail(path, _("Enter a number."))
    return number


def _days(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 36500:
        raise _fail(path, _("Enter a number of days from 1 to 36500."))
    return value


def _date(value: Any, path: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)) if isinstance(value, str) else _bad_date(path)
    except ValueError:
        return _bad_date(path)


def _bad_date(path: str) -> dt.date:
    raise _fail(path, _("Enter a date as YYYY-MM-DD."))


def compile_rules(rules: Any, user: AnyUser, now: dt.datetime | None = None) -> Q:
    """The Q selecting the clients `rules` describe (to apply to a scoped queryset)."""
    return Compiler(user, now).compile(rules)


def catalogue(user: AnyUser) -> list[dict[str, Any]]:
    """The fields and operators a rule builder may offer this viewer."""
    compiler = Compiler(user)
    rows = [
        {"field": name, "label": spec.label, "type": spec.type, "ops": list(OPS[spec.type]),
         "choices": list(spec.choices), "extras": list(spec.extras)}
        for name, spec in FIELDS.items()
    ]  # fmt: skip
    for key, field in compiler.custom.items():
        if "__" in key:
            continue
        kind = CUSTOM_TYPES[field.type]
        rows.append(
            {"field": f"custom.{key}", "label": field.label, "type": kind, "ops": list(OPS[kind]),
             "choices": list(field.choices), "extras": []}
        )  # fmt: skip
    return rows
