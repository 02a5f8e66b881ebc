"""The KPI definitions against hand-computed figures, at their boundaries: a wait of exactly T
is within T, an abandon after exactly S seconds is not a short one, a repeat exactly 7 days
later is a repeat; occupancy clipped at the period's start and split per hour."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kartoteka.callcenter import kpi
from kartoteka.callcenter.models import Call, OperatorStatusChange

pytestmark = pytest.mark.django_db

# 13:00 in Moscow (the test zone) on 1 December; the period is that local day.
T0 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 12, 1)
NOW = T0 + dt.timedelta(hours=1)
S = dt.timedelta(seconds=1)
_ids = iter(range(1, 10_000))


@pytest.fixture(autouse=True)
def moscow(settings):
    settings.TIME_ZONE = "Europe/Moscow"


def call(operator=None, *, at=T0, wait=None, talk=None, lost=None, **extra) -> Call:
    """An inbound call `wait` seconds to its answer (or to its loss) and `talk` seconds long."""
    started = at
    row = {"status": Call.Status.QUEUED}
    if wait is not None and lost is None:
        answered = started + wait * S
        row = {"answered_at": answered, "status": Call.Status.ANSWERED}
        if talk is not None:
            row |= {"ended_at": answered + talk * S, "status": Call.Status.ENDED}
    elif lost is not None:
        row = {"ended_at": started + wait * S, "status": lost}
    who = {"operator": operator, "user_id": operator.user_id} if operator else {}
    return Call.objects.create(
        provider="test",
        call_id=f"k{next(_ids)}",
        started_at=started,
        queue=extra.pop("queue", "sales"),
        **who,
        **row,
        **extra,
    )


def status(operator, name, start, end=None, call=None) -> None:
    OperatorStatusChange.objects.create(
        operator=operator, status=name, started_at=start, ended_at=end, source="call", call=call
    )


@pytest.fixture
def world(olga, ivan):
    """Five inbound calls of olga's in "sales" on the day, an outbound one, a waiting one."""
    first = call(olga, wait=20, talk=100, client=ivan, caller_e164="+79161234567")  # exactly T
    second = call(olga, wait=21, talk=60, caller_e164="+79990000001")
    call(wait=5, lost=Call.Status.ABANDONED)  # exactly S: a counted abandon
    call(wait=4.999, lost=Call.Status.ABANDONED)  # short
    call(wait=30, lost=Call.Status.MISSED)
    call()  # still waiting: in no count
    call(olga, wait=1, talk=500, direction=Call.Direction.OUTBOUND)
    # Repeats, outside the period: ivan 7 days and a second later (not a repeat), the second
    # caller exactly 7 days later (a repeat).
    call(at=first.started_at + dt.timedelta(days=7) + S, client=ivan, wait=9, lost="missed")
    call(at=second.started_at + dt.timedelta(days=7), caller_e164="+79990000001", wait=1, talk=1)
    status(olga, "after_call", T0 + 120 * S, T0 + 150 * S, call=first)
    status(olga, "after_call", T0 + 200 * S, T0 + 210 * S, call=second)
    return first, second


def report(user, **kw):
    options = {"group": "queue", "answer_s": 20, "short_abandon_s": 5} | kw
    return kpi.report(user, kpi.params(DAY, DAY, **options), now=NOW)


def test_the_figures_by_hand(admin, world):
    row = report(admin).rows[0]
    assert row.label == "sales"
    assert (row.answered, row.answered_in_t, row.abandoned, row.short_abandoned) == (2, 1, 3, 1)
    assert row.offered == 4  # answered + counted abandons
    assert row.service_level == pytest.approx(1 / 4)  # offered variant (the default)
    assert row.abandonment_rate == pytest.approx(2 / 4)
    assert row.asa_s == pytest.approx(20.5)
    assert (row.talk_s, row.acw_s, row.handled) == (160, 40, 2)
    assert row.aht_s == pytest.approx(100)
    assert (row.identified, row.resolved, row.fcr) == (2, 1, 0.5)
    assert row.occupancy is None  # not defined per queue


def test_the_answered_variant(admin, world):
    assert report(admin, variant="answered").rows[0].service_level == pytest.approx(1 / 2)


def test_t_and_s_move_the_boundaries(admin, world):
    row = report(admin, answer_s=21, short_abandon_s=6).rows[0]
    assert (row.answered_in_t, row.short_abandoned) == (2, 2)
    row = report(admin, answer_s=19, short_abandon_s=0).rows[0]
    assert (row.answered_in_t, row.short_abandoned) == (0, 0)


def test_occupancy_per_operator_clipped_at_the_period(admin, olga):
    # Available from 23:30 the day before (clipped at local midnight), a call, its ACW, a
    # break (not logged in), available again and still open at NOW.
    status(olga, "available", T0 - dt.timedelta(hours=13, minutes=30), T0)
    status(olga, "on_call", T0, T0 + dt.timedelta(minutes=10))
    status(olga, "after_call", T0 + dt.timedelta(minutes=10), T0 + dt.timedelta(minutes=15))
    status(olga, "break", T0 + dt.timedelta(minutes=15), T0 + dt.timedelta(minutes=45))
    status(olga, "available", T0 + dt.timedelta(minutes=45))
    row = report(admin, group="operator").total
    assert (row.busy_s, row.logged_in_s) == (15 * 60, (13 * 60 + 30) * 60)
    by_hour = {r.label: r for r in report(admin, group="interval", interval="hour").rows}
    assert by_hour["2026-12-01 13:00"].occupancy == pytest.approx(15 / 30)
    assert by_hour["2026-12-01 12:00"].occupancy == 0
    assert by_hour["2026-12-01 00:00"].logged_in_s == 3600
    assert len(by_hour) == 14


def test_grouped_by_interval_and_operator(admin, olga, world):
    days = report(admin, group="interval").rows
    assert [r.label for r in days] == ["2026-12-01"] and days[0].answered == 2
    hours = report(admin, group="interval", interval="hour").rows
    assert [r.label for r in hours] == ["2026-12-01 13:00"]
    people = {r.label: r for r in report(admin, group="operator").rows}
    assert people["101 Olga"].answered == 2 and people["no operator"].abandoned == 3


def test_the_total_adds_the_rows(admin, olga, world):
    call(olga, wait=3, talk=10, queue="support")
    result = report(admin)
    assert [r.label for r in result.rows] == ["sales", "support"]
    assert result.total.answered == 3 and result.total.answered_in_t == 2


def test_an_operator_sees_only_their_own_calls(olga, oleg, world):
    call(oleg, wait=1, talk=10)
    mine = report(olga.user).total
    assert (mine.answered, mine.abandoned) == (2, 0)  # nobody's abandons are not hers
    people = report(olga.user, group="operator").rows
    assert [r.key for r in people] == [olga.pk]


def test_no_calls_no_figures(admin):
    result = report(admin)
    assert result.rows == [] and result.total.service_level is None


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"group": "x"}, "group"),
        ({"interval": "minute"}, "interval"),
        ({"answer_s": 0}, "answer_s"),
        ({"variant": "both"}, "variant"),
        ({"short_abandon_s": 601}, "short_abandon_s"),
    ],
)
def test_bad_params_name_the_field(options, field):
    with pytest.raises(ValidationError) as caught:
        kpi.params(DAY, DAY, **options)
    assert field in caught.value.message_dict


def test_a_long_period_and_hours(db):
    with pytest.raises(ValidationError) as caught:
        kpi.params(DAY, DAY + dt.timedelta(days=366))
    assert "to" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        kpi.params(DAY, DAY + dt.timedelta(days=31), interval="hour")
    assert "interval" in caught.value.message_dict

