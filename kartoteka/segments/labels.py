"""Words the rule builder shows for fields, operators and choices, in the reader's language."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client
from kartoteka.segments.models import Cycle

FIELD_LABELS: dict[str, Any] = {
    "kind": _("kind"),
    "stage": _("stage"),
    "source": _("source"),
    "completeness": _("completeness, %"),
    "created_at": _("created"),
    "last_contact_at": _("last contact"),
    "owner": _("owner"),
    "tag": _("tag"),
    "abc": "ABC",
    "xyz": "XYZ",
    "cycle": _("contact cycle"),
    "rfm.r": _("RFM recency"),
    "rfm.f": _("RFM frequency"),
    "rfm.m": _("RFM money"),
    "interactions.count": _("interactions, number"),
    "interactions.last": _("last interaction"),
    "purchases.count": _("purchases, number"),
    "purchases.sum": _("purchases, sum"),
    "purchases.last": _("last purchase"),
    "deals.count": _("deals, number"),
}
OP_LABELS: dict[str, Any] = {
    "eq": _("is"),
    "ne": _("is not"),
    "in": _("is one of"),
    "gt": _("more than"),
    "gte": _("at least"),
    "lt": _("less than"),
    "lte": _("at most"),
    "after": _("after"),
    "before": _("before"),
    "within_days": _("within the last … days"),
    "older_than_days": _("more than … days ago"),
    "exists": _("there is one"),
    "never": _("never"),
    "isnull": _("nobody"),
    "has": _("has"),
    "has_not": _("has not"),
    "contains": _("contains"),
}
CHOICE_LABELS: dict[str, dict[str, Any]] = {
    "kind": dict(Client.Kind.choices),
    "stage": dict(Client.Stage.choices),
    "source": {"": _("no source"), **dict(Client.Source.choices)},
    "cycle": dict(Cycle.choices),
    "abc": {"": _("no class")},
    "xyz": {"": _("no class")},
}
INTERACTION_KINDS = Interaction.Kind.choices


def deal_statuses() -> list[tuple[str, Any]]:
    from kartoteka.sales.models import Stage

    return list(Stage.Kind.choices)
