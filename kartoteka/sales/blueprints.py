"""Ready-made pipelines for the three ways of selling: stages, probabilities, required fields."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

# (stage name, probability, kind, fields a deal needs to enter the stage)
BLUEPRINTS: dict[str, dict[str, Any]] = {
    "transactional": {
        "name": _("New sales"),
        "stages": [
            (_("New lead"), 10, "open", []),
            (_("Needs identified"), 30, "open", ["amount"]),
            (_("Offer sent"), 60, "open", ["amount", "expected_close"]),
            (_("Invoice issued"), 90, "open", ["amount", "expected_close"]),
            (_("Won"), 100, "won", ["amount"]),
            (_("Lost"), 0, "lost", ["loss_reason"]),
        ],
    },
    "consultative": {
        "name": _("Consultative sales"),
        "stages": [
            (_("First contact"), 5, "open", []),
            (_("Discovery meeting"), 20, "open", []),
            (_("Solution proposed"), 40, "open", ["amount"]),
            (_("Negotiation"), 70, "open", ["amount", "expected_close"]),
            (_("Contract signing"), 90, "open", ["amount", "expected_close"]),
            (_("Won"), 100, "won", ["amount"]),
            (_("Lost"), 0, "lost", ["loss_reason"]),
        ],
    },
    "strategic": {
        "name": _("Tenders and strategic deals"),
        "stages": [
            (_("Opportunity"), 5, "open", []),
            (_("Qualification"), 15, "open", ["expected_close"]),
            (_("Tender documents"), 30, "open", ["amount", "expected_close"]),
            (_("Bid submitted"), 50, "open", ["amount", "expected_close"]),
            (_("Shortlisted"), 75, "open", ["amount", "expected_close"]),
            (_("Won"), 100, "won", ["amount"]),
            (_("Lost"), 0, "lost", ["loss_reason"]),
        ],
    },
}
LOSS_REASONS = [
    _("Price too high"),
    _("Chose a competitor"),
    _("No budget"),
    _("No decision"),
    _("Lost contact"),
    _("Not our client"),
]
