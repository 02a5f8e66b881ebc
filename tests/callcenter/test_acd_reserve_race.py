"""Two route requests at once (PostgreSQL, two connections in threads), one free operator:
exactly one call gets him."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection, connections

from kartoteka.callcenter import acd
from kartoteka.callcenter.models import Operator, OperatorStatusChange
from tests.callcenter.acd_cast import busy, give, idle, skilled_queue

pytestmark = [
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serializes writers; nothing races"
    ),
]


def test_two_calls_at_once_one_operator(olga, oleg):
    _queue, english = skilled_queue()
    give(olga, english, 7)
    idle(olga, 10)
    busy(oleg)
    barrier = threading.Barrier(2)
    got: dict[str, int | None] = {}
    errors: list[BaseException] = []

    def ask(call_id: str) -> None:
        try:
            barrier.wait()
            got[call_id] = acd.route("+79990001122", "sales", call_id, reserve=True).operator_id
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ask, args=(c,)) for c in ("race-1", "race-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(got.values(), key=str) == [olga.pk, None]
    ringing = OperatorStatusChange.objects.filter(operator=olga, status="ringing")
    assert ringing.count() == 1
    assert Operator.objects.get(pk=olga.pk).status == Operator.Status.RINGING
