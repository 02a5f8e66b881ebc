"""core.bulk: a handful of model instances written in one statement, as save() would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kartoteka.callcenter.models import Call
from kartoteka.core import bulk

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 12, 6, 9, 30, 15, 123456, tzinfo=dt.UTC)


def _call(n: int, **fields: object) -> Call:
    return Call(provider="bulk", call_id=f"b{n}", direction="in", started_at=T0, **fields)


def test_insert_sets_the_keys_in_order_and_keeps_every_value(alice):
    rows = [
        _call(1, ivr={"menu": "2", "note": 'it\'s "quoted"'}, answered_at=T0),
        _call(2, caller="+7 916 000-00-00", user=alice),
        _call(3, status="missed", version=4),
    ]
    with CaptureQueriesContext(connection) as ctx:
        bulk.insert_models(rows)
    assert len(ctx.captured_queries) == 1
    for row in rows:
        saved = Call.objects.get(pk=row.pk)
        assert saved.call_id == row.call_id
        assert (saved.ivr, saved.caller, saved.status, saved.version) == (
            row.ivr,
            row.caller,
            row.status,
            row.version,
        )
        assert (saved.started_at, saved.answered_at) == (T0, row.answered_at)  # microseconds
        assert saved.user_id == row.user_id
        assert saved.created_at is not None and not row._state.adding
    assert bulk.insert_models([]) is None


def test_update_writes_only_the_named_fields_and_touches_updated_at():
    rows = [_call(1), _call(2)]
    bulk.insert_models(rows)
    before = Call.objects.get(pk=rows[0].pk).updated_at
    Call.objects.filter(pk=rows[0].pk).update(summary="the operator's")
    for n, row in enumerate(rows):
        row.status, row.ended_at, row.ivr = "ended", T0 + dt.timedelta(seconds=n), {"n": n}
        row.summary = "stale"  # not named: not written
    with CaptureQueriesContext(connection) as ctx:
        bulk.update_models(rows, ["status", "ended_at", "ivr", "updated_at"])
    assert len(ctx.captured_queries) == 1
    saved = {c.pk: c for c in Call.objects.all()}
    for n, row in enumerate(rows):
        assert (saved[row.pk].status, saved[row.pk].ended_at) == ("ended", row.ended_at)
        assert saved[row.pk].ivr == {"n": n}
    assert saved[rows[0].pk].summary == "the operator's"
    assert saved[rows[0].pk].updated_at >= before


def test_select_reads_instances_as_the_orm_would_in_key_order():
    rows = [_call(n, ivr={"menu": str(n)}, answered_at=T0) for n in (3, 1, 2)]
    bulk.insert_models(rows)
    where, params = bulk.any_of("call_id", ["b2", "b3", "nobody"])
    with CaptureQueriesContext(connection) as ctx:
        found = bulk.select_models(Call, f"provider = %s AND {where}", ["bulk", *params], lock=True)
    assert [c.call_id for c in found] == ["b3", "b2"]  # by id: b3 was inserted first
    assert found == list(Call.objects.filter(call_id__in=["b2", "b3"]).order_by("pk"))
    assert (found[0].ivr, found[0].answered_at) == ({"menu": "3"}, T0)
    locked = "FOR NO KEY UPDATE" in ctx.captured_queries[0]["sql"]
    assert locked == (connection.vendor == "postgresql")
    assert bulk.any_of("call_id", []) == ("1 = 0", [])
    assert bulk.select_models(Call, "1 = 0", []) == []
