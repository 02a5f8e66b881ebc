"""The contact cycle stage of one client from plain figures (no database); see docs/analytics.md.

no purchase:  a contact within `prospect_days`, or the card's stage "prospect" → prospect;
              otherwise → lead
last purchase older than `lost_days` → lost; older than `at_risk_days` → at risk
otherwise (active):
    previously lost (or already won back and not yet loyal) → won back
    purchases ≥ `loyal_purchases` → loyal
    purchases ≥ `repeat_purchases` → repeat customer
    otherwise → first order
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kartoteka.segments.models import Cycle


@dataclass(frozen=True)
class CycleRule:
    at_risk_days: int = 90
    lost_days: int = 180
    repeat_purchases: int = 2
    loyal_purchases: int = 5
    prospect_days: int = 180

    def __post_init__(self) -> None:
        if not (0 < self.at_risk_days <= self.lost_days):
            raise ValueError("at_risk_days must be positive and at most lost_days")
        if not (1 < self.repeat_purchases <= self.loyal_purchases):
            raise ValueError("repeat_purchases must be at least 2 and at most loyal_purchases")


def stage(
    *,
    purchases: int,
    last_purchase_at: dt.datetime | None,
    last_contact_at: dt.datetime | None,
    card_stage: str,
    previous: str,
    now: dt.datetime,
    rule: CycleRule = CycleRule(),
) -> str:
    if purchases == 0 or last_purchase_at is None:
        recent = last_contact_at is not None and (now - last_contact_at).days <= rule.prospect_days
        return Cycle.PROSPECT if recent or card_stage == "prospect" else Cycle.LEAD
    idle = (now - last_purchase_at).days
    if idle > rule.lost_days:
        return Cycle.LOST
    if idle > rule.at_risk_days:
        return Cycle.AT_RISK
    loyal = purchases >= rule.loyal_purchases
    if previous == Cycle.LOST or (previous == Cycle.WON_BACK and not loyal):
        return Cycle.WON_BACK
    if loyal:
        return Cycle.LOYAL
    if purchases >= rule.repeat_purchases:
        return Cycle.REPEAT
    return Cycle.FIRST_ORDER
