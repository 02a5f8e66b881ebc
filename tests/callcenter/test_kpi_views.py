"""The KPI report page (filters, table, chart data, CSV) and the wallboard, scoped by role."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.utils import timezone

from kartoteka.callcenter.models import Call
from tests.callcenter.kpi_data import call
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("moscow")]
DAY = {"start": "2026-12-01", "end": "2026-12-01", "answer_s": 20, "short_abandon_s": 5}
DAY |= {"variant": "offered", "group": "queue", "interval": "day"}


def test_the_report_page(client, admin, world):
    client.force_login(admin)
    page = client.get("/calls/kpi/", DAY).content.decode()
    assert 'id="kpi-table"' in page and '<th scope="row">sales</th>' in page
    assert "25.0 %" in page  # 1 of 4 offered within T
    assert "answered within 20 s / (answered + abandoned after 5 s)" in page
    data = page.split('id="kpi-chart-data-sl" type="application/json">')[1].split("</script>")[0]
    chart = json.loads(data)
    assert chart["labels"] == ["2026-12-01"] and chart["series"][0]["values"] == [25.0]


def test_the_default_period_is_the_last_week(client, admin):
    client.force_login(admin)
    assert client.get("/calls/kpi/").status_code == 200


def test_csv_export(client, admin, world):
    call(wait=1, talk=1, queue="=HYPERLINK(1)")
    client.force_login(admin)
    response = client.get("/calls/kpi/", DAY | {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "\ufeffRow" and rows[1][0] == "'=HYPERLINK(1)"
    sales = next(r for r in rows if r[0] == "sales")
    assert sales[1:3] == ["4", "2"] and sales[7] == "25.0"
    assert rows[-1][0] == "Total"


def test_bad_filters_are_named_not_500(client, admin):
    client.force_login(admin)
    for bad in ({"end": "2026-11-01"}, {"answer_s": "x"}, {"group": "');--"}, {"start": "²"}):
        response = client.get("/calls/kpi/", DAY | bad)
        assert response.status_code == 422
        assert "invalid-feedback" in response.content.decode()


def test_an_operator_sees_own_figures_only(client, olga, oleg, world):
    client.force_login(oleg.user)
    page = client.get("/calls/kpi/", DAY).content.decode()
    assert "No calls in this period." in page and "Your own calls only." in page
    client.force_login(olga.user)
    page = client.get("/calls/kpi/", DAY | {"group": "operator"}).content.decode()
    assert "101 Olga" in page and "no operator" not in page


def test_no_call_rights_no_page(client, db):
    client.force_login(make_user("mia", role="marketer"))
    assert client.get("/calls/kpi/").status_code == 403
    assert client.get("/calls/wallboard/").status_code == 403


def test_the_wallboard_shows_who_waits(client, helen, olga):
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    call(at=now - timezone.timedelta(seconds=75), queue="support")
    # Answered today even when the test runs just after midnight.
    started = max(now - timezone.timedelta(seconds=120), midnight)
    call(olga, at=started, wait=10, talk=30, queue="support")
    client.force_login(helen)
    page = client.get("/calls/wallboard/").content.decode()
    assert 'data-queue="support"' in page
    assert 'data-figure="waiting">1<' in page and 'data-figure="longest">1:1' in page
    assert 'data-figure="sl">100.0 %' in page
    assert 'data-status="available"><div class="display-6 fw-bold">1<' in page
    fragment = client.get("/calls/wallboard/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<div id="wallboard"')


def test_an_operator_has_no_wallboard(client, olga):
    client.force_login(olga.user)
    assert client.get("/calls/wallboard/").status_code == 403


def test_wallboard_settings_are_checked(client, helen):
    client.force_login(helen)
    response = client.get("/calls/wallboard/", {"answer_s": "0"})
    assert response.status_code == 422


def test_a_call_older_than_a_day_is_not_waiting(client, helen):
    call(at=timezone.now() - timezone.timedelta(days=2))
    client.force_login(helen)
    page = client.get("/calls/wallboard/").content.decode()
    assert "No calls today yet." in page
    assert Call.objects.count() == 1
