"""Demo deals for a fresh installation: a board with something on it, made through the services
(so they carry their stage history and events like real ones)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client
from kartoteka.sales import services
from kartoteka.sales.models import LossReason, Pipeline, Stage

TITLES = (
    *("Поставка оборудования", "Годовой контракт", "Пилотный проект", "Сервисное обслуживание"),
    *("Лицензии", "Расширение заказа", "Тендер на поставку", "Внедрение CRM"),
)


def add_deals(count: int, seed: int = 1) -> int:
    """`count` deals on random owned clients of the first pipeline, at random stages."""
    pipeline = Pipeline.objects.filter(is_active=True).first()
    clients = list(Client.objects.filter(owner__isnull=False).select_related("owner")[:2000])
    if pipeline is None or not clients or count <= 0:
        return 0
    r = random.Random(seed)
    stages = list(pipeline.stages.all())
    reasons = list(LossReason.objects.all())
    today = timezone.localdate()
    for _n in range(count):
        client = r.choice(clients)
        owner: User = client.owner  # type: ignore[assignment]
        fields = {
            "title": f"{r.choice(TITLES)} — {client.name}"[:200],
            "client": client,
            "owner": owner,
            "amount": Decimal(r.randint(5, 900) * 10_000),
            "expected_close": today + dt.timedelta(days=r.randint(-30, 120)),
            "next_step": r.choice(("Позвонить", "Отправить КП", "Встреча", "")),
        }
        deal = services.create_deal(None, fields)
        target = r.choice(stages)
        for stage in stages[1 : stages.index(target) + 1]:
            if stage.kind == Stage.Kind.LOST and target.kind != Stage.Kind.LOST:
                continue
            if stage.kind == Stage.Kind.WON and target.kind == Stage.Kind.LOST:
                continue
            extra = {"loss_reason": r.choice(reasons)} if stage.kind == Stage.Kind.LOST else {}
            deal = services.move_deal(None, deal, stage, deal.version, extra)
    return count
