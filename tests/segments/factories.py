"""Clients and purchases for analytics tests, written straight to the tables."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def client(name: str, owner=None, **extra) -> Client:
    return Client.objects.create(kind="person", last_name=name, name=name, owner=owner, **extra)


def buy(who: Client, day: dt.date, amount, currency: str = "RUB") -> Interaction:
    return Interaction.objects.create(
        client=who,
        kind=Interaction.Kind.PURCHASE,
        occurred_at=dt.datetime.combine(day, dt.time(12), MSK),
        amount=Decimal(amount),
        currency=currency,
    )


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), MSK)
