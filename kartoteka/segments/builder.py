"""The rule builder's form: rows of (field, operator, value, extras) to rules JSON and back.

The page posts `match` and, per row i (0 ≤ i < MAX_CONDITIONS), `c-i-field`, `c-i-op`,
`c-i-value` (several for "in"), `c-i-days`, `c-i-kind`, `c-i-status`. Values stay strings
except where the compiler wants a number of days or a boolean; `rules.compile_rules` checks
everything else and names the row it refuses ("rules.conditions.2.value").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from kartoteka.core.forms import parse_id
from kartoteka.segments.rules import FIELDS, MAX_CONDITIONS, OPS

ROW_KEY = re.compile(r"c-([0-9]{1,2})-field")
PATH = re.compile(r"rules\.conditions\.([0-9]+)(?:\.(\w+))?")
EXTRAS = ("days", "kind", "status")
DAY_OPS = ("within_days", "older_than_days")
BOOLEAN_TYPES = ("boolean",)


@dataclass
class Row:
    """One condition as the form shows it."""

    field: str = "stage"
    op: str = ""
    value: Any = ""
    extras: dict[str, str] = _field(default_factory=dict)
    errors: dict[str, str] = _field(default_factory=dict)

    @property
    def values(self) -> list[str]:
        return [str(v) for v in self.value] if isinstance(self.value, list) else [str(self.value)]


def _text(data: QueryDict, key: str, limit: int = 200) -> str:
    return str(data.get(key, ""))[:limit].replace("\x00", "")


def rows_from_post(data: QueryDict) -> list[Row]:
    """The rows in the order of their indexes; anything beyond the limit is ignored."""
    indexes = sorted(
        {int(m[1]) for key in data if (m := ROW_KEY.fullmatch(key)) and int(m[1]) < MAX_CONDITIONS}
    )
    rows = []
    for i in indexes:
        name = _text(data, f"c-{i}-field", 80)
        op = _text(data, f"c-{i}-op", 20)
        value: Any = (
            [str(v)[:200] for v in data.getlist(f"c-{i}-value")[:20]]
            if op == "in"
            else _text(data, f"c-{i}-value")
        )
        extras = {k: _text(data, f"c-{i}-{k}", 20) for k in EXTRAS if data.get(f"c-{i}-{k}")}
        rows.append(Row(name, op, value, extras))
    return rows


def _value(row: Row, kind: str) -> Any:
    if row.op in ("exists", "never"):
        return None
    if row.op == "isnull" or kind in BOOLEAN_TYPES:
        return {"true": True, "false": False}.get(str(row.value), row.value)
    if row.op in DAY_OPS and (days := parse_id(row.value)) is not None:
        return days
    return row.value


def to_rules(match: str, rows: list[Row], types: dict[str, str]) -> dict[str, Any]:
    """The rules JSON the compiler checks (unknown fields stay, for it to name)."""
    conditions = []
    for row in rows:
        kind = types.get(row.field, "")
        item: dict[str, Any] = {"field": row.field, "op": row.op}
        value = _value(row, kind)
        if value is not None:
            item["value"] = value
        for key, raw in row.extras.items():
            days = parse_id(raw) if key == "days" else None
            item[key] = raw if days is None else days
        conditions.append(item)
    return {"match": match if match in ("all", "any") else "all", "conditions": conditions}


def from_rules(rules: dict[str, Any]) -> tuple[str, list[Row]] | None:
    """The rows of saved rules; None when they have groups (the builder edits flat rules)."""
    conditions = rules.get("conditions") or []
    if any(not isinstance(c, dict) or "conditions" in c for c in conditions):
        return None
    rows = []
    for c in conditions:
        value = c.get("value", "")
        if isinstance(value, bool):
            value = "true" if value else "false"
        extras = {k: str(c[k]) for k in EXTRAS if k in c}
        rows.append(Row(str(c.get("field", "")), str(c.get("op", "")), value, extras))
    return str(rules.get("match", "all")), rows


def attach_errors(rows: list[Row], errors: dict[str, list[str]]) -> list[str]:
    """Put the compiler's errors on their rows; answers the ones that name no row."""
    general = []
    for path, messages in errors.items():
        found = PATH.fullmatch(path)
        text = " ".join(messages)
        if found and int(found[1]) < len(rows):
            rows[int(found[1])].errors[found[2] or "field"] = text
        elif path in ("rules.conditions", "rules"):
            general.append(text)
        else:
            general.append(f"{path}: {text}")
    return general


def default_row() -> Row:
    return Row("stage", "eq", "customer")


def fresh_row(row: Row) -> Row:
    """A row whose field changed: the first operator of the new field, no value."""
    spec = FIELDS.get(row.field)
    ops = OPS[spec.type] if spec else ("eq",)
    op = row.op if row.op in ops else ops[0]
    return Row(row.field, op, "" if op != "in" else [], {})


def empty_message() -> str:
    return _("Add at least one condition.")
