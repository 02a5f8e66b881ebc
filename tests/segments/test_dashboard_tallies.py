"""The dashboard cells the recompute's tallies lack: deals per month, clients per source."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kartoteka.sales import services
from kartoteka.sales.models import Deal
from kartoteka.segments import dashboard_tallies
from kartoteka.segments.models import DashboardTally
from kartoteka.segments.recompute import recompute
from tests.sales import LOST, WON, deal, reason, stage
from tests.segments.factories import at, buy, client

pytestmark = pytest.mark.django_db
NOW = at(dt.date(2026, 7, 1))


def test_deals_and_sources(alice, bob):
    won = deal(alice, amount=Decimal(1000))
    won = services.move_deal(None, won, stage(WON), won.version, {})
    lost = deal(bob, amount=Decimal(500))
    services.move_deal(None, lost, stage(LOST), lost.version, {"loss_reason": reason()})
    usd = deal(alice, amount=Decimal(70), currency="USD")
    services.move_deal(None, usd, stage(WON), usd.version, {})
    Deal.objects.update(created_at=at(dt.date(2026, 3, 2)), closed_at=at(dt.date(2026, 4, 9)))
    buyer = client("Buyer", owner=alice, source="website")
    buy(buyer, dt.date(2026, 5, 1), 100)
    client("Lead", owner=alice, source="website")
    recompute(now=NOW)
    dashboard_tallies.refresh(now=NOW)
    cells = {
        (t.owner_id, t.chart, t.key): (t.clients, t.revenue, t.count)
        for t in DashboardTally.objects.all()
    }
    assert cells[(alice.pk, "deals", "2026-03:created")][2] == 2
    assert cells[(alice.pk, "deals", "2026-04:won")] == (0, Decimal(1000), 2)  # USD not summed
    assert cells[(bob.pk, "deals", "2026-04:lost")][2] == 1
    assert cells[(alice.pk, "source", "website:first_order")][0] == 1
    assert cells[(alice.pk, "source", "website:lead")][0] == 1
    dashboard_tallies.refresh(now=NOW)  # a rerun rewrites, never adds
    assert DashboardTally.objects.count() == len(cells)
