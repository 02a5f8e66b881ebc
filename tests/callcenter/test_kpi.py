"""The KPI definitions against hand-computed figures, at their boundaries: a wait of exactly T
is within T, an abandon after exactly S seconds is not a short one, a repeat exactly 7 days
later is a repeat; occupancy clipped at the period's start and split per hour."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kartoteka.callcenter import kpi
from tests.callcenter.conftest import make_operator
from tests.callcenter.kpi_data import DAY, NOW, T0, call, status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("moscow")]


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


def test_a_head_sees_the_team_and_nobodys_calls(helen, carol, world):
    carols = make_operator("carla", "301")
    call(carols, wait=2, talk=5)  # another team's operator: not helen's
    total = report(helen).total
    assert (total.answered, total.abandoned) == (2, 3)
    assert report(carol).total.answered == 0


def test_a_client_calling_again_exactly_7_days_later_is_a_repeat(admin, world):
    first = world[0]
    call(at=first.started_at + dt.timedelta(days=7), client=first.client, wait=2, talk=3)
    row = report(admin).rows[0]
    assert (row.identified, row.resolved) == (2, 0)
