"""`kartoteka analytics abc|xyz|rfm|recompute` prints classes for scripts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command

from kartoteka.segments.models import ClientClass
from tests.segments.factories import buy, client

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients():
    steady = client("Steady", external_id="S-1", external_system="erp")
    for month in (1, 2, 3):
        buy(steady, dt.date(2026, month, 15), 1000)
    jumpy = client("Jumpy", external_id="J-1", external_system="erp")
    buy(jumpy, dt.date(2026, 1, 10), 50)
    buy(jumpy, dt.date(2026, 3, 31), 150)
    late = client("Late")
    buy(late, dt.date(2026, 3, 30), 10)
    buy(late, dt.date(2026, 4, 1), 99999)  # after --to: not counted
    return steady, jumpy, late


def run(capsys, *args):
    call_command("analytics", *args)
    return json.loads(capsys.readouterr().out)


def test_abc_json(clients, capsys):
    steady, jumpy, late = clients
    rows = run(capsys, "abc", "--from", "2026-01-01", "--to", "2026-03-31", "--json")
    # 3000 of 3210 = 93.5% → B; jumpy 3200/3210 = 99.7% → C; late C.
    assert rows == [
        {"client_id": steady.pk, "external_id": "S-1", "class": "B"},
        {"client_id": jumpy.pk, "external_id": "J-1", "class": "C"},
        {"client_id": late.pk, "external_id": "", "class": "C"},
    ]


def test_xyz_json_months_between_the_dates(clients, capsys):
    steady, jumpy, late = clients
    rows = run(capsys, "xyz", "--from", "2026-01-01", "--to", "2026-03-31", "--json")
    got = {r["client_id"]: r["class"] for r in rows}
    # jumpy: 50, 0, 150 → CV 81.6% → Z; late: one month (March) → too few periods: null.
    assert got == {steady.pk: "X", jumpy.pk: "Z", late.pk: None}


def test_rfm_json_recency_from_to(clients, capsys):
    steady, jumpy, late = clients
    rows = run(capsys, "rfm", "--from", "2026-01-01", "--to", "2026-03-31", "--json")
    got = {r["client_id"]: r["class"] for r in rows}
    assert got[steady.pk][1:] == "55"  # most frequent, most money
    # Recency back from 31 March: jumpy bought that day (R 5), late the day before.
    assert got[jumpy.pk][0] == "5" and got[late.pk][0] == "4"
    assert all(len(c) == 3 and set(c) <= set("12345") for c in got.values())


def test_bad_dates_are_refused(db):
    with pytest.raises(CommandError):
        call_command("analytics", "abc", "--from", "2026-03-01", "--to", "2026-01-01")
    with pytest.raises(CommandError):
        call_command("analytics", "abc", "--from", "2026-03-01")


def test_recompute_stores_classes(clients, capsys):
    call_command("analytics", "recompute", "--json")
    assert json.loads(capsys.readouterr().out)["clients"] == 3
    assert ClientClass.objects.count() == 3
