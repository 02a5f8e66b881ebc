"""Segment and analytics pages: who may open what, counts scoped to the viewer, the rule builder's
htmx answers, hostile input answered with a message (never a 500, nothing written), exports of
a chart, and constant query counts."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from kartoteka.segments import dashboard_tallies
from kartoteka.segments.models import AnalyticsConfig, ClassChange, Segment, SegmentMember
from kartoteka.segments.recompute import recompute
from tests.conftest import make_user
from tests.segments.factories import at, buy, client

pytestmark = pytest.mark.django_db
NOW = at(dt.date(2026, 7, 1))
CUSTOMERS = {"match": "all", "conditions": [{"field": "stage", "op": "eq", "value": "customer"}]}
PAGES = ("overview", "classes", "cycle", "cohorts", "conversion", "managers")


def login(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def shop(alice, bob, carol):
    big = client("Big", owner=alice, stage="customer", source="website")
    for month in range(1, 7):
        buy(big, dt.date(2026, month, 10), 1000)
    mid = client("Mid", owner=bob, stage="customer", source="referral")
    buy(mid, dt.date(2026, 2, 3), 600)
    buy(mid, dt.date(2026, 5, 3), 600)
    far = client("Far", owner=carol, stage="customer")
    buy(far, dt.date(2026, 3, 5), 5000)
    client("Idle", owner=alice)
    recompute(now=NOW)
    dashboard_tallies.refresh(now=NOW)
    return {"big": big, "mid": mid, "far": far}


def state():
    return (
        list(Segment.objects.values_list("id", "name", "rules", "shared", "version")),
        list(SegmentMember.objects.values_list("segment_id", "client_id")),
        list(AnalyticsConfig.objects.values_list("version", "abc_a")),
    )


# --- who may open what --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["head", "marketer", "analyst"])
def test_dashboards_open_for_analytics_roles(role, shop, sales, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    user = make_user(f"u-{role}", role=role)
    if role == "head":
        sales.head = user
        sales.save()
    http = login(user)
    for page in PAGES:
        url = reverse("analytics:dashboard") if page == "overview" else f"/analytics/{page}/"
        answer = http.get(url, {"from": "2026-01", "to": "2026-06"})
        assert answer.status_code == 200, (page, answer.status_code)
        assert b'type="application/json"' in answer.content


def test_managers_and_operators_get_403(alice, shop):
    operator = make_user("olga", role="operator")
    for user in (alice, operator):
        http = login(user)
        assert http.get(reverse("analytics:dashboard")).status_code == 403
        assert http.get("/analytics/classes/").status_code == 403
        assert http.get(reverse("analytics:settings")).status_code == 403
    assert b"/analytics/" not in login(alice).get(reverse("clients:list")).content


def test_unknown_page_404(admin, shop):
    assert login(admin).get("/analytics/nope/").status_code == 404


def test_head_sees_his_team_only(helen, shop):
    answer = login(helen).get("/analytics/classes/", {"from": "2026-01", "to": "2026-06"})
    matrix = next(c for c in answer.context["charts"] if c.key == "abcxyz")
    total = sum(cell.value for row in matrix.rows for cell in row[1::2] if cell.number)
    assert total == 2  # Big (alice) and Mid (bob); Far is carol's, another team
    everyone = login(make_user("mia", role="marketer")).get("/analytics/classes/")
    matrix = next(c for c in everyone.context["charts"] if c.key == "abcxyz")
    assert sum(cell.value for row in matrix.rows for cell in row[1::2] if cell.number) == 3


def test_owner_outside_the_team_is_refused(helen, carol, shop):
    answer = login(helen).get(reverse("analytics:dashboard"), {"owner": carol.pk})
    assert answer.status_code == 422
    assert b"Choose a manager whose clients you may see" in answer.content


@pytest.mark.parametrize(
    "query",
    [
        {"from": "UTC')--", "to": "2026-13"},
        {"from": "2026-06", "to": "2026-01"},
        {"from": "1999-01"},
        {"owner": "1 OR 1=1"},
        {"owner": "²"},
        {"from": "2020-01", "to": "2026-12"},
        {"xlsx": "<svg onload=alert(1)>"},
    ],
)
def test_hostile_dashboard_queries_answer_without_500(admin, shop, query):
    answer = login(admin).get(reverse("analytics:dashboard"), query)
    assert answer.status_code in (200, 404, 422)
    assert b"<svg onload" not in answer.content


def test_sales_and_leads_figures_and_drill_down(admin, shop, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    answer = login(admin).get(reverse("analytics:dashboard"), {"from": "2026-01", "to": "2026-06"})
    sales = next(c for c in answer.context["charts"] if c.key == "sales")
    february = sales.rows[1]
    assert float(february[1].value) == 1600 and february[3].value == 2
    assert february[3].link == "bought=2026-02"
    listed = login(admin).get(reverse("clients:list"), {"bought": "2026-02"})
    assert sorted(r.name for r in listed.context["rows"]) == ["Big", "Mid"]


def test_matrix_drill_down_matches_the_count(admin, shop):
    answer = login(admin).get("/analytics/classes/")
    matrix = next(c for c in answer.context["charts"] if c.key == "abcxyz")
    cells = [cell for row in matrix.rows for cell in row[1::2] if cell.value]
    for cell in cells:
        listed = login(admin).get(reverse("clients:list") + "?" + cell.link)
        assert len(listed.context["rows"]) == cell.value, cell.link


def test_chart_xlsx_export(admin, shop):
    from python_calamine import CalamineWorkbook

    answer = login(admin).get("/analytics/classes/", {"xlsx": "rfm"})
    assert answer.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(answer.streaming_content)))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0][0] == "recency \\ frequency" and len(rows) == 6
    assert login(admin).get("/analytics/classes/", {"xlsx": "sales"}).status_code == 404


def test_cycle_movements_report_and_drill(admin, shop):
    ClassChange.objects.create(
        client=shop["mid"], measure="cycle", old="lost", new="won_back", at=at(dt.date(2026, 5, 3))
    )
    dashboard_tallies.refresh(now=NOW)  # the report reads the job's monthly cells
    answer = login(admin).get("/analytics/cycle/", {"from": "2026-05", "to": "2026-05"})
    moves = next(c for c in answer.context["charts"] if c.key == "movements")
    lost_row = next(r for r in moves.rows if r[0].value == "lost")
    cell = next(c for c in lost_row[1:] if c.value)
    assert cell.value == 1 and "moved=lost%3Awon_back" in cell.link
    listed = login(admin).get(reverse("clients:list") + "?" + cell.link)
    assert [r.name for r in listed.context["rows"]] == ["Mid"]


def test_dashboard_query_count_is_constant(admin, shop, django_assert_max_num_queries):
    http = login(admin)
    http.get(reverse("analytics:dashboard"))
    with django_assert_max_num_queries(20) as few:
        http.get(reverse("analytics:dashboard"))
    for n in range(30):
        buy(client(f"More {n}", owner=admin), dt.date(2026, 4, 1), 10 + n)
    recompute(now=NOW)
    dashboard_tallies.refresh(now=NOW)
    with django_assert_max_num_queries(len(few.captured_queries)):
        http.get(reverse("analytics:dashboard"))


# --- settings -----------------------------------------------------------------------------------


def test_settings_admin_saves_and_bad_input_names_the_field(admin):
    http = login(admin)
    page = http.get(reverse("analytics:settings"))
    assert page.status_code == 200
    version = page.context["version"]
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    bad = http.post(
        reverse("analytics:settings"), {**form, "abc_a": "99", "abc_b": "90", "version": version}
    )
    assert bad.status_code == 422 and b"B must be at least A" in bad.content
    assert AnalyticsConfig.objects.get().abc_a == 80
    junk = http.post(reverse("analytics:settings"), {**form, "currency": "<b>", "version": "x"})
    assert junk.status_code == 422
    digit = http.post(reverse("analytics:settings"), {**form, "version": "\u00b2"})
    assert digit.status_code == 422 and b"reload" in digit.content
    good = http.post(reverse("analytics:settings"), {**form, "abc_a": "70", "version": version})
    assert good.status_code == 302
    assert AnalyticsConfig.objects.get().abc_a == 70


def test_recompute_now_admin_only(admin, alice):
    before = state()
    assert login(alice).post(reverse("analytics:recompute")).status_code == 403
    assert state() == before
    assert login(admin).post(reverse("analytics:recompute")).status_code == 302


# --- the client card ----------------------------------------------------------------------------


def test_card_section_shows_classes_and_history(alice, carol, shop):
    ClassChange.objects.create(
        client=shop["big"], measure="abc", old="B", new="A", at=at(dt.date(2026, 6, 1))
    )
    http = login(alice)
    card = http.get(reverse("clients:card", args=[shop["big"].pk]))
    assert reverse("analytics:client", args=[shop["big"].pk]).encode() in card.content
    section = http.get(reverse("analytics:client", args=[shop["big"].pk]))
    assert section.status_code == 200
    assert b"loyal" in section.content and b"B \xe2\x86\x92 A" in section.content
    assert http.get(reverse("analytics:client", args=[shop["far"].pk])).status_code == 404


# --- segments -----------------------------------------------------------------------------------


def test_segment_pages_render_and_count_scoped(alice, helen, shop):
    segment = Segment.objects.create(
        name="Customers", rules=CUSTOMERS, created_by=alice, shared=True
    )
    http = login(alice)
    assert b"Customers" in http.get(reverse("segments:list")).content
    count = http.get(reverse("segments:count", args=[segment.pk]))
    assert b">1<" in count.content  # alice's own Big only
    assert b">2<" in login(helen).get(reverse("segments:count", args=[segment.pk])).content
    detail = http.get(reverse("segments:detail", args=[segment.pk]))
    assert detail.status_code == 200 and b"Big" in detail.content and b"Mid" not in detail.content
    assert http.get(reverse("segments:edit", args=[segment.pk])).status_code == 200


def test_others_private_segment_is_404_and_shared_403_to_change(alice, bob, shop):
    private = Segment.objects.create(name="Bob's", rules=CUSTOMERS, created_by=bob)
    shared = Segment.objects.create(name="Team", rules=CUSTOMERS, created_by=bob, shared=True)
    before = state()
    http = login(alice)
    for name in ("detail", "edit", "count"):
        assert http.get(reverse(f"segments:{name}", args=[private.pk])).status_code == 404
    assert http.post(reverse("segments:delete", args=[private.pk])).status_code == 404
    assert http.get(reverse("segments:edit", args=[shared.pk])).status_code == 403
    assert http.post(reverse("segments:delete", args=[shared.pk])).status_code == 403
    assert http.post(reverse("segments:members", args=[shared.pk]), {"add": [1]}).status_code == 403
    assert state() == before


def test_builder_saves_a_segment(alice, shop):
    http = login(alice)
    form = {
        "kind": "dynamic",
        "name": "Big buyers",
        "match": "all",
        "c-0-field": "purchases.sum",
        "c-0-op": "gte",
        "c-0-value": "5000",
        "c-1-field": "interactions.last",
        "c-1-op": "within_days",
        "c-1-value": "400",
    }
    preview = http.post(reverse("segments:preview"), form)
    assert preview.status_code == 200 and b'id="preview-count">1<' in preview.content
    saved = http.post(reverse("segments:create"), form)
    assert saved.status_code == 302
    segment = Segment.objects.get(name="Big buyers")
    assert segment.rules["conditions"][1] == {
        "field": "interactions.last",
        "op": "within_days",
        "value": 400,
    }


def test_builder_rows_add_remove_retype(alice):
    http = login(alice)
    base = {"match": "all", "c-0-field": "stage", "c-0-op": "eq", "c-0-value": "customer"}
    added = http.post(reverse("segments:builder"), {**base, "add": "1"}, HTTP_HX_REQUEST="true")
    assert added.content.count(b'class="row g-1 align-items-start mb-2 condition"') == 2
    assert b'hx-swap-oob="true"' in added.content
    removed = http.post(reverse("segments:builder"), {**base, "remove": "0"})
    assert b"mb-2 condition" not in removed.content
    retyped = http.post(
        reverse("segments:builder"), {**base, "c-0-field": "purchases.sum", "retype": "0"}
    )
    assert b'name="c-0-days"' in retyped.content


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"c-0-field": "owner__password__startswith"}, b"Unknown field"),
        ({"c-0-field": "x__regex", "c-0-op": "eq"}, b"Unknown field"),
        ({"c-0-op": "regex"}, b"Choose one of"),
        ({"c-0-field": "purchases.sum", "c-0-op": "gt", "c-0-value": "1e999"}, b"Enter a number"),
        ({"c-0-field": "created_at", "c-0-op": "after", "c-0-value": "UTC')--"}, b"YYYY-MM-DD"),
        ({"c-0-field": "purchases.count", "c-0-op": "gt", "c-0-days": "-1"}, b"days"),
        ({"c-0-field": "purchases.count", "c-0-op": "gt", "c-0-days": "\u00b2"}, b"days"),
        (
            {"c-0-field": "interactions.last", "c-0-op": "within_days", "c-0-value": "\u00b2"},
            b"days",
        ),
        ({"name": ""}, b"required"),
    ],
)
def test_bad_builder_input_names_the_problem_and_saves_nothing(alice, shop, extra, message):
    form = {
        "kind": "dynamic",
        "name": "S",
        "match": "all",
        "c-0-field": "stage",
        "c-0-op": "eq",
        "c-0-value": "customer",
        **extra,
    }
    before = state()
    answer = login(alice).post(reverse("segments:create"), form)
    assert answer.status_code == 422
    assert message in answer.content
    assert state() == before
    preview = login(alice).post(reverse("segments:preview"), form)
    assert preview.status_code == 200


def test_hostile_builder_keys_are_ignored(alice, shop):
    form = {"kind": "dynamic", "name": "S", "c-999-field": "stage", "c-x-field": "kind"}
    form.update({"c-0-field": "stage", "c-0-op": "eq", "c-0-value": "customer", "_connector": "OR"})
    answer = login(alice).post(reverse("segments:create"), form)
    assert answer.status_code == 302
    assert len(Segment.objects.get().rules["conditions"]) == 1


def test_edit_with_stale_version_is_refused(alice, shop):
    segment = Segment.objects.create(name="S", rules=CUSTOMERS, created_by=alice)
    form = {"name": "T", "match": "all", "c-0-field": "stage", "c-0-op": "eq"}
    form |= {"c-0-value": "customer", "version": "7"}
    answer = login(alice).post(reverse("segments:edit", args=[segment.pk]), form)
    assert answer.status_code == 422 and b"meanwhile" in answer.content
    assert Segment.objects.get().name == "S"
    form["version"] = "1"
    assert login(alice).post(reverse("segments:edit", args=[segment.pk]), form).status_code == 302
    assert Segment.objects.get().name == "T"


def test_static_list_members_from_the_client_list(alice, bob, shop):
    mine = client("Mine", owner=alice)
    http = login(alice)
    made = http.post(reverse("segments:create"), {"kind": "static", "name": "Picked"})
    assert made.status_code == 302
    segment = Segment.objects.get()
    control = http.get(reverse("segments:add_to_list"), {"ids": f"{mine.pk},{shop['big'].pk}"})
    assert b"Picked" in control.content
    url = reverse("segments:members", args=[segment.pk])
    assert http.post(url, {"add": [mine.pk, shop["big"].pk], "back": "list"}).status_code == 302
    assert segment.memberships.count() == 2
    before = state()
    http.post(url, {"add": [shop["mid"].pk]})  # bob's client: refused, nothing added
    http.post(url, {"add": ["1; DROP TABLE"]})
    assert state() == before
    http.post(url, {"remove": [mine.pk]})
    assert list(segment.memberships.values_list("client_id", flat=True)) == [shop["big"].pk]
    listed = http.get(reverse("clients:list"), {"segment": segment.pk})
    assert [r.name for r in listed.context["rows"]] == ["Big"]


def test_delete_segment(alice, shop):
    segment = Segment.objects.create(name="S", rules=CUSTOMERS, created_by=alice)
    assert login(alice).post(reverse("segments:delete", args=[segment.pk])).status_code == 302
    assert not Segment.objects.exists()


def test_segment_export_goes_through_the_pipeline(alice, shop):
    from kartoteka.transfer.models import Export

    segment = Segment.objects.create(name="S", rules=CUSTOMERS, created_by=alice)
    detail = login(alice).get(reverse("segments:detail", args=[segment.pk]))
    assert f'value="segment={segment.pk}"'.encode() in detail.content
    login(alice).post(reverse("export_new"), {"query": f"segment={segment.pk}", "format": "csv"})
    assert Export.objects.get().rows == 1


def test_segment_list_query_count_constant(alice, django_assert_max_num_queries):
    http = login(alice)
    Segment.objects.create(name="S0", rules=CUSTOMERS, created_by=alice)
    with django_assert_max_num_queries(12) as few:
        http.get(reverse("segments:list"))
    for n in range(10):
        Segment.objects.create(name=f"S{n + 1}", rules=CUSTOMERS, created_by=alice)
    with django_assert_max_num_queries(len(few.captured_queries)):
        http.get(reverse("segments:list"))


def test_segment_pages_for_a_user_without_client_rights(shop):
    nobody = make_user("nemo", role="operator")
    from kartoteka.accounts.models import Grant

    Grant.objects.filter(role=nobody.role, kind="client", action="view").update(scope=0)
    http = login(nobody)
    assert http.get(reverse("segments:list")).status_code == 403
    assert http.post(reverse("segments:preview"), {}).status_code == 403


def test_numbers_and_months_in_russian(admin, shop):
    admin.language = "ru"
    admin.save(update_fields=["language"])
    answer = login(admin).get(reverse("analytics:dashboard"), {"from": "2026-01", "to": "2026-06"})
    text = answer.content.decode()
    assert "Динамика продаж" in text and "Февраль 2026" in text
    assert "1\xa0600" in text or "1 600" in text  # February's revenue, grouped the Russian way


@pytest.mark.parametrize(
    "query",
    [
        {"bought": "UTC')--"},
        {"cohort": "2026-13"},
        {"won": "<svg onload=alert(1)>"},
        {"moved": "lead:lead"},
        {"moved": "x' OR 1=1", "moved_from": "yesterday"},
        {"segment": "1 OR 1=1"},
    ],
)
def test_hostile_drill_down_queries_name_the_filter(alice, shop, query):
    answer = login(alice).get(reverse("clients:list"), query)
    assert answer.status_code == 200
    assert answer.context["rows"] == []
    assert answer.context["form"].errors
    assert b"<svg onload" not in answer.content


def test_bad_segment_page_cursor_and_empty_preview(alice, shop):
    segment = Segment.objects.create(name="S", rules=CUSTOMERS, created_by=alice)
    http = login(alice)
    page = http.get(reverse("segments:detail", args=[segment.pk]), {"cursor": "bm90IGpzb24="})
    assert page.status_code == 200 and b"out of date" in page.content
    empty = http.post(reverse("segments:preview"), {"match": "all"})
    assert b"Add at least one condition" in empty.content


def test_rename_keeps_grouped_rules(alice, shop):
    grouped = {
        "match": "any",
        "conditions": [CUSTOMERS, {"field": "kind", "op": "eq", "value": "person"}],
    }
    segment = Segment.objects.create(name="G", rules=grouped, created_by=alice)
    http = login(alice)
    page = http.get(reverse("segments:edit", args=[segment.pk]))
    assert b"change them through the API" in page.content
    answer = http.post(reverse("segments:edit", args=[segment.pk]), {"name": "H", "version": "1"})
    assert answer.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.rules) == ("H", grouped)
