"""The contact centre's settings for the demo: ACD skills and routing, the voice menu, call
scripts and a quality scorecard, each app's own demo written through that app's services.

Settings are made by a person in the product, so here by the first administrator (the one
`firststart` creates); without one nothing is added. Each part adds only what is missing: a
second run adds nothing.
"""

from __future__ import annotations

from django.db import transaction

from kartoteka.accounts.models import User
from kartoteka.callcenter import acd_demo
from kartoteka.callscripts import demo as scripts_demo
from kartoteka.ivr import demo as ivr_demo
from kartoteka.quality import demo as quality_demo


def load(actor: User | None = None) -> dict[str, int]:
    actor = actor or User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if actor is None:
        return {}
    with transaction.atomic():
        return {
            **acd_demo.load(actor),
            **ivr_demo.load(actor),
            **scripts_demo.load(actor),
            **quality_demo.load(actor),
        }
