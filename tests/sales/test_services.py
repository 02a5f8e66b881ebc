"""Sales services and queries: deals created, changed, moved, trashed; the kanban's reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kartoteka.core.errors import StaleVersion
from kartoteka.core.models import AuditEntry
from kartoteka.core.permissions import Denied
from kartoteka.sales import events, queries, services
from kartoteka.sales.blueprints import BLUEPRINTS
from kartoteka.sales.models import Deal, Pipeline, Stage, StageChange
from tests.sales import (
    INVOICE,
    LOST,
    NEEDS,
    NEW,
    OFFER,
    WON,
    company,
    deal,
    first_pipeline,
    person,
    reason,
    snapshot,
    stage,
)

pytestmark = pytest.mark.django_db


def errors_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(excinfo.value.message_dict)


# --- creating ---------------------------------------------------------------------------------


def test_create_with_defaults(alice):
    client = person(alice)
    made = services.create_deal(alice, {"title": "  Поставка   станков ", "client": client})
    made.refresh_from_db()
    assert made.pipeline == first_pipeline() and made.stage == stage(NEW)
    assert made.owner == alice and made.currency == "RUB" and made.version == 1
    assert made.title == "Поставка станков" and made.search_title == "поставка станков"
    assert made.amount is None and made.closed_at is None and made.deleted_at is None
    (row,) = StageChange.objects.filter(deal=made)
    assert row.from_stage is None and row.to_stage == stage(NEW) and row.actor == alice


def test_create_at_a_stage_with_its_required_fields(alice):
    with pytest.raises(ValidationError) as excinfo:
        services.create_deal(alice, {"title": "A", "client": person(alice), "stage": stage(OFFER)})
    assert errors_of(excinfo) == {"amount", "expected_close"}
    assert not Deal.objects.exists()
    made = services.create_deal(
        alice,
        {
            "title": "A",
            "client": person(alice, "Петров"),
            "stage": stage(OFFER),
            "amount": Decimal("10.50"),
            "expected_close": dt.date(2027, 1, 1),
        },
    )
    assert made.stage == stage(OFFER)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": Decimal("-1")}, "amount"),
        ({"currency": "XXX"}, "currency"),
        ({"title": ""}, "title"),
        ({"stage": "won"}, "stage"),
        ({"version": 7}, "version"),
        ({"deleted_at": "2020-01-01"}, "deleted_at"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(alice, fields, field):
    client = person(alice)
    if fields.get("stage") == "won":
        fields = {"stage": stage(WON), "amount": Decimal(1)}
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.create_deal(alice, {"title": "A", "client": client, **fields})
    assert field in errors_of(excinfo)
    assert snapshot() == before


def test_a_client_the_user_may_not_see_is_refused(alice, carol):
    theirs = person(carol)
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.create_deal(alice, {"title": "A", "client": theirs})
    assert errors_of(excinfo) == {"client"}
    with pytest.raises(ValidationError) as excinfo:
        services.create_deal(
            alice, {"title": "A", "client": person(alice)}, contacts=[person(carol, "Чужой")]
        )
    assert errors_of(excinfo) == {"contacts"}
    assert list(Deal.objects.all()) == [] and snapshot()[1] == before[1]


def test_contacts_that_are_companies_are_refused(alice):
    firm = company(alice)
    with pytest.raises(ValidationError) as excinfo:
        services.create_deal(alice, {"title": "A", "client": firm}, contacts=[company(alice, "Б")])
    assert errors_of(excinfo) == {"contacts"}
    made = services.create_deal(alice, {"title": "A", "client": firm}, contacts=[person(alice)])
    assert [c.kind for c in made.contacts.all()] == ["person"]


def test_giving_a_deal_to_someone_else_needs_the_right(alice, bob, helen):
    client = person(alice)
    with pytest.raises(ValidationError) as excinfo:
        services.create_deal(alice, {"title": "A", "client": client, "owner": bob})
    assert errors_of(excinfo) == {"owner"}
    mine = services.create_deal(alice, {"title": "A", "client": client})
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.update_deal(alice, mine, 1, {"owner": bob})
    assert errors_of(excinfo) == {"owner"}
    assert snapshot() == before
    moved = services.update_deal(helen, mine, 1, {"owner": bob})
    assert moved.owner == bob and moved.version == 2
    assert AuditEntry.objects.filter(action="reassign", target_id=str(mine.pk)).exists()


def test_only_those_who_may_create_deals_do(db):
    from tests.conftest import make_user

    operator = make_user("oleg", role="operator")
    with pytest.raises(Denied):
        services.create_deal(operator, {"title": "A", "client": person(operator)})
    assert not Deal.objects.exists()


# --- changing and moving ----------------------------------------------------------------------


def test_update_keeps_what_the_current_stage_requires(alice):
    made = deal(alice, amount=Decimal(5))
    made = services.move_deal(alice, made, stage(NEEDS), 1)
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.update_deal(alice, made, made.version, {"amount": None})
    assert errors_of(excinfo) == {"amount"}
    assert snapshot() == before
    with pytest.raises(StaleVersion):
        services.update_deal(alice, made, 1, {"next_step": "позвонить"})
    changed = services.update_deal(alice, made, made.version, {"next_step": "позвонить"})
    assert changed.next_step == "позвонить" and changed.version == 3


def test_a_move_that_skips_required_fields_names_each_and_changes_nothing(alice):
    made = deal(alice)
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.move_deal(alice, made, stage(INVOICE), 1)
    assert errors_of(excinfo) == {"amount", "expected_close"}
    with pytest.raises(ValidationError) as excinfo:
        services.move_deal(alice, made, stage(INVOICE), 1, {"amount": Decimal(100)})
    assert errors_of(excinfo) == {"expected_close"}
    assert snapshot() == before
    fields = {"amount": Decimal(100), "expected_close": dt.date(2027, 3, 1)}
    moved = services.move_deal(alice, made, stage(INVOICE), 1, fields)
    moved.refresh_from_db()
    assert moved.stage == stage(INVOICE) and moved.amount == 100 and moved.version == 2


def test_lost_needs_a_loss_reason_and_won_or_lost_close_the_deal(alice):
    made = deal(alice, amount=Decimal(1))
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.move_deal(alice, made, stage(LOST), 1)
    assert errors_of(excinfo) == {"loss_reason"}
    assert snapshot() == before
    lost = services.move_deal(alice, made, stage(LOST), 1, {"loss_reason": reason()})
    assert lost.closed_at is not None and lost.loss_reason == reason()
    reopened = services.move_deal(alice, lost, stage(NEW), 2)
    reopened.refresh_from_db()
    assert reopened.closed_at is None and reopened.loss_reason is None
    won = services.move_deal(alice, reopened, stage(WON), 3)
    assert won.closed_at is not None and won.stage.kind == Stage.Kind.WON


def test_a_stage_of_another_pipeline_is_refused(admin, alice):
    other = services.install_blueprint(admin, "consultative")
    made = deal(alice)
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.move_deal(alice, made, other.stages.first(), 1)
    assert errors_of(excinfo) == {"stage"}
    with pytest.raises(ValidationError) as excinfo:
        services.create_deal(
            alice, {"title": "A", "client": person(alice), "stage": other.stages.first()}
        )
    assert errors_of(excinfo) == {"stage"}
    assert snapshot()[:3] == before[:3]


def test_stage_history_rows_keep_the_time_in_each_stage(alice, bob):
    made = deal(alice, amount=Decimal(1))
    Deal.objects.filter(pk=made.pk).update(stage_entered_at=timezone.now() - dt.timedelta(hours=2))
    made = services.move_deal(alice, made, stage(NEEDS), 1)
    Deal.objects.filter(pk=made.pk).update(
        stage_entered_at=timezone.now() - dt.timedelta(seconds=90)
    )
    services.move_deal(alice, made, stage(WON), 2)
    rows = list(queries.history(made))
    assert [(r.from_stage, r.to_stage) for r in rows] == [
        (stage(NEEDS), stage(WON)),
        (stage(NEW), stage(NEEDS)),
        (None, stage(NEW)),
    ]
    assert 90 <= rows[0].seconds_in_stage < 150
    assert 7200 <= rows[1].seconds_in_stage < 7260
    assert rows[2].seconds_in_stage is None and {r.actor for r in rows[:2]} == {alice}


def test_two_people_move_one_deal_one_wins_the_other_is_told(alice, helen):
    made = deal(alice, amount=Decimal(1))
    mine, hers = Deal.objects.get(pk=made.pk), Deal.objects.get(pk=made.pk)
    services.move_deal(helen, hers, stage(WON), hers.version)
    before = snapshot()
    with pytest.raises(StaleVersion) as excinfo:
        services.move_deal(alice, mine, stage(NEEDS), mine.version)
    assert excinfo.value.current_version == 2
    assert snapshot() == before
    made.refresh_from_db()
    assert made.stage == stage(WON) and StageChange.objects.filter(deal=made).count() == 2


def test_events_are_emitted_on_commit_only(alice, monkeypatch, django_capture_on_commit_callbacks):
    got: list[events.Event] = []
    monkeypatch.setattr(events, "_subscribers", [got.append])
    with django_capture_on_commit_callbacks(execute=False) as pending:
        made = deal(alice, amount=Decimal(1))
        services.move_deal(alice, made, stage(LOST), 1, {"loss_reason": reason()})
    assert got == []
    for callback in pending:
        callback()
    lost, new = stage(LOST), stage(NEW)
    assert got == [
        events.DealCreated(made.pk, None),
        events.DealStageChanged(made.pk, alice.pk, new.pk, lost.pk),
        events.DealLost(made.pk, alice.pk, reason().pk),
    ]
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.move_deal(alice, made, stage(OFFER), 2)
    assert len(got) == 3


# --- trash ------------------------------------------------------------------------------------


def test_trash_and_restore_need_their_rights(alice, helen):
    made = deal(alice)
    before = snapshot()
    with pytest.raises(Denied):
        services.trash_deal(alice, made)
    assert snapshot() == before
    services.trash_deal(helen, made)
    assert not Deal.objects.filter(pk=made.pk).exists()
    with pytest.raises(Denied):
        services.restore_deal(alice, made)
    services.restore_deal(helen, made)
    assert Deal.objects.filter(pk=made.pk).exists()


# --- blueprints -------------------------------------------------------------------------------


@pytest.mark.parametrize("blueprint", list(BLUEPRINTS))
def test_install_blueprint(admin, alice, blueprint):
    with pytest.raises(Denied):
        services.install_blueprint(alice, blueprint, "Моя воронка")
    made = services.install_blueprint(admin, blueprint, "Моя  воронка")
    plan = BLUEPRINTS[blueprint]["stages"]
    assert made.name == "Моя воронка"
    assert [(s.name, s.probability, s.kind, s.required_fields) for s in made.stages.all()] == [
        (str(n), p, k, r) for n, p, k, r in plan
    ]
    assert [s.kind for s in made.stages.all()][-2:] == ["won", "lost"]
    with pytest.raises(ValidationError) as excinfo:
        services.install_blueprint(admin, blueprint, "Моя воронка")
    assert errors_of(excinfo) == {"name"}
    with pytest.raises(ValidationError):
        services.install_blueprint(admin, "unknown")
    assert Pipeline.objects.filter(name="Моя воронка").count() == 1


# --- queries ----------------------------------------------------------------------------------


def _many(owner, count: int, **fields) -> list[Deal]:
    client = person(owner)
    return [deal(owner, client, title=f"Сделка {i}", **fields) for i in range(count)]


def test_board_counts_and_sums_per_currency(alice, bob):
    _many(alice, 2, amount=Decimal("10.50"))
    _many(alice, 1, amount=Decimal("1"), currency="USD")
    _many(alice, 1)  # no amount
    _many(bob, 3, amount=Decimal(100))  # not alice's: not on her board
    columns = queries.board(alice, first_pipeline())
    first = columns[0]
    assert first.stage == stage(NEW) and first.count == 4 and not first.more
    assert first.sums == {"RUB": Decimal("21.00"), "USD": Decimal("1.00")}
    assert len(first.deals) == 4 and all(c.count == 0 for c in columns[1:])
    assert queries.board(bob, first_pipeline())[0].sums == {"RUB": Decimal(300)}


def test_board_query_count_does_not_grow_with_deals(alice, django_assert_num_queries):
    pipeline = first_pipeline()
    _many(alice, 2, amount=Decimal(1))
    queries.board(alice, pipeline)  # the user's rights are read once and kept
    with django_assert_num_queries(2 + len(pipeline.stages.all())) as few:
        [len(c.deals) for c in queries.board(alice, pipeline)]
    _many(alice, 30, amount=Decimal(1))
    with django_assert_num_queries(len(few.captured_queries)):
        columns = queries.board(alice, pipeline)
        [(d.client.name, d.owner) for c in columns for d in c.deals]
    assert columns[0].count == 32 and columns[0].more


def test_column_pages_have_no_gaps_or_duplicates(alice):
    made = _many(alice, 47)
    moment = timezone.now()
    # Ties on the sort key: the id breaks them.
    Deal.objects.filter(pk__in=[d.pk for d in made[10:30]]).update(updated_at=moment)
    seen: list[int] = []
    after = None
    rows = queries.visible_deals(alice)
    while True:
        page = list(queries.column_page(rows, stage(NEW), after))
        seen += [d.pk for d in page[: queries.COLUMN_PAGE]]
        if len(page) <= queries.COLUMN_PAGE:
            break
        last = page[queries.COLUMN_PAGE - 1]
        after = (last.updated_at, last.pk)
    assert len(seen) == len(set(seen)) == 47 and set(seen) == {d.pk for d in made}


def test_filter_by_title_in_any_case_cyrillic_included(alice):
    client = person(alice)
    wanted = deal(alice, client, title="Поставка ЁЛОК для Рябова")
    deal(alice, client, title="Ремонт")
    deal(alice, client, title="50% скидка_тест")
    rows = queries.visible_deals(alice)
    for q in ("рябова", "РЯБОВ", "елок", "ёлок", "ПОСТАВКА ряб"):
        assert list(queries.filter_deals(rows, q=q)) == [wanted], q
    assert queries.filter_deals(rows, q="%").count() == 1
    assert queries.filter_deals(rows, q="_").count() == 1
    assert queries.filter_deals(rows, q="").count() == 3


def test_a_clock_behind_never_gives_negative_time_in_stage(alice):
    made = deal(alice, amount=Decimal(1))
    ahead = timezone.now() + dt.timedelta(seconds=5)
    Deal.objects.filter(pk=made.pk).update(stage_entered_at=ahead)
    services.move_deal(alice, made, stage(NEEDS), 1)
    assert queries.history(made).first().seconds_in_stage == 0


def test_a_move_within_the_same_stage(alice):
    made = deal(alice, amount=Decimal(1))
    lost = services.move_deal(alice, made, stage(LOST), 1, {"loss_reason": reason()})
    again = services.move_deal(alice, lost, stage(LOST), 2)  # dropped back into its column
    assert again.version == 2 and again.loss_reason == reason()
    kept = services.move_deal(alice, again, stage(LOST), 2, {"next_step": "Вернуться весной"})
    kept.refresh_from_db()
    assert kept.version == 3 and kept.next_step == "Вернуться весной"
    assert kept.loss_reason == reason() and StageChange.objects.filter(deal=made).count() == 2


def _with_contacts_stage() -> Stage:
    pipeline = Pipeline.objects.create(name="Партнёры", position=5)
    Stage.objects.create(pipeline=pipeline, name="Начало", position=0)
    return Stage.objects.create(
        pipeline=pipeline, name="Встреча", position=1, required_fields=["contacts", "next_step"]
    )


def test_a_move_sets_the_contacts_a_stage_requires_all_or_nothing(alice):
    meeting = _with_contacts_stage()
    made = services.create_deal(
        alice, {"title": "A", "client": company(alice), "pipeline": meeting.pipeline}
    )
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.move_deal(alice, made, meeting, 1)
    assert errors_of(excinfo) == {"contacts", "next_step"}
    with pytest.raises(ValidationError) as excinfo:
        services.move_deal(alice, made, meeting, 1, contacts=[person(alice)])
    assert errors_of(excinfo) == {"next_step"}
    with pytest.raises(ValidationError) as excinfo:
        services.move_deal(alice, made, meeting, 1, {"next_step": "x"}, contacts=[company(alice)])
    assert errors_of(excinfo) == {"contacts"}
    assert snapshot()[:3] == before[:3]
    contact = person(alice, "Иванова")
    moved = services.move_deal(alice, made, meeting, 1, {"next_step": "x"}, contacts=[contact])
    assert moved.stage == meeting and list(moved.contacts.all()) == [contact]
