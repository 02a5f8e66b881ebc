"""Sales pages as people use them: the board, moves, the list, the deal card, its forms."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from kartoteka.clients import services as client_services
from kartoteka.sales import services
from kartoteka.sales.models import Deal, LossReason, Pipeline, Stage, StageChange
from tests.conftest import make_user

XSS = '"><img src=x onerror=alert(1)><script>alert(1)</script>'
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def pipeline(db) -> Pipeline:
    return Pipeline.objects.prefetch_related("stages").get()  # seeded by the migrations


@pytest.fixture
def stages(pipeline):
    # New lead, Needs identified [amount], Offer sent [amount, expected_close], Invoice issued,
    # Won [amount], Lost [loss_reason]
    return list(pipeline.stages.all())


@pytest.fixture
def company(alice):
    return client_services.create_client(
        alice, "company", {"company_name": "Ромашка", "legal_form": "ООО", "owner": alice}
    )


@pytest.fixture
def deal(alice, company):
    return services.create_deal(alice, {"title": "Сорок стульев", "client": company})


@pytest.fixture
def ready(alice, company):
    """A deal with what every open stage asks for."""
    fields = {"amount": Decimal("900"), "expected_close": dt.date(2027, 3, 1)}
    return services.create_deal(alice, {"title": "Готовая", "client": company, **fields})


@pytest.fixture
def foreign_deal(carol):
    other = client_services.create_client(
        carol, "company", {"company_name": "Лютик", "owner": carol}
    )
    return services.create_deal(carol, {"title": "Чужая сделка", "client": other})


def move(client, deal, stage, version=None, filters="", **extra):
    data = {"stage": stage.pk, "version": deal.version if version is None else version}
    if filters is not None:
        data["filters"] = filters
    data.update(extra)
    return client.post(reverse("sales:move", args=[deal.pk]), data, **HTMX)


def triggers(response) -> dict:
    header = response.headers.get("HX-Trigger-After-Settle", "{}")
    return json.loads(header)


def test_pages_need_login(client, deal):
    for url in (reverse("sales:board"), reverse("sales:list"), reverse("sales:card", args=[1])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_board_shows_own_deals_with_counts_and_sums(
    alice_client, alice, company, stages, foreign_deal
):
    services.create_deal(alice, {"title": "Первая", "client": company, "amount": Decimal("100")})
    services.create_deal(
        alice, {"title": "Вторая", "client": company, "amount": Decimal("250.5"), "currency": "USD"}
    )
    response = alice_client.get(reverse("sales:board"))
    assert response.status_code == 200
    first = response.context["columns"][0]
    assert first.stage == stages[0] and first.count == 2
    assert first.sums == {"RUB": Decimal("100"), "USD": Decimal("250.5")}
    assert "Первая" in response.text and "Вторая" in response.text
    assert "Чужая сделка" not in response.text
    assert "Sortable.min.js" in response.text and "sales/kanban.js" in response.text
    # Filters: a part of the title, the owner.
    found = alice_client.get(reverse("sales:board"), {"q": "втор"})
    assert "Вторая" in found.text and "Первая" not in found.text
    nobody = alice_client.get(reverse("sales:board"), {"owner": "none"})
    assert "Вторая" not in nobody.text


def test_board_loads_more_per_column(alice_client, alice, company, stages):
    for i in range(25):
        services.create_deal(alice, {"title": f"Сделка {i:02d}", "client": company})
    response = alice_client.get(reverse("sales:board"))
    column = response.context["columns"][0]
    assert column.count == 25 and len(column.deals) == 20 and column.more
    url = reverse("sales:column", args=[stages[0].pk])
    more = alice_client.get(url, {"after": column.cursor}, **HTMX)
    assert more.status_code == 200
    assert len(more.context["deals"]) == 5 and not more.context["more"]
    assert "Сделка 00" in more.text and "Сделка 24" not in more.text
    assert alice_client.get(url, {"after": "garbage"}).status_code == 400


def test_board_queries_do_not_grow_with_deals(
    alice_client, alice, company, django_assert_max_num_queries
):
    for i in range(5):
        services.create_deal(alice, {"title": f"a{i}", "client": company, "amount": 1})
    with django_assert_max_num_queries(22) as few:  # 20 at the time of writing
        alice_client.get(reverse("sales:board"))
    for i in range(45):
        services.create_deal(alice, {"title": f"b{i}", "client": company, "amount": 1})
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = alice_client.get(reverse("sales:board"))
    assert response.context["columns"][0].count == 50


def test_move_on_the_board_redraws_both_columns(alice_client, ready, stages):
    deal = ready
    response = move(alice_client, deal, stages[3], filters="owner=me")
    deal.refresh_from_db()
    assert response.status_code == 200
    assert deal.stage == stages[3] and deal.version == 2
    assert "kanban:moved" in triggers(response)
    assert f'id="column-{stages[0].pk}"' in response.text
    assert f'id="column-{stages[3].pk}"' in response.text
    assert f'id="column-{stages[1].pk}"' not in response.text
    assert [c.count for c in response.context["columns"]] == [0, 1]
    assert StageChange.objects.filter(deal=deal, to_stage=stages[3]).exists()


def test_move_asks_for_required_fields_then_accepts_them(alice_client, deal, stages):
    response = move(alice_client, deal, stages[2])  # Offer sent: amount and expected close
    assert response.status_code == 200
    assert "kanban:ask" in triggers(response)
    assert 'name="amount"' in response.text and 'name="expected_close"' in response.text
    assert 'name="next_step"' not in response.text and 'name="loss_reason"' not in response.text
    deal.refresh_from_db()
    assert deal.stage == stages[0] and deal.version == 1  # nothing changed

    asked = {"asked": ["amount", "expected_close"], "currency": "EUR"}
    bad = move(alice_client, deal, stages[2], amount="-5", expected_close="2027-01-31", **asked)
    assert bad.status_code == 422
    deal.refresh_from_db()
    assert deal.stage == stages[0] and deal.amount is None

    good = move(alice_client, deal, stages[2], amount="1500", expected_close="2027-01-31", **asked)
    assert good.status_code == 200 and "kanban:moved" in triggers(good)
    deal.refresh_from_db()
    assert deal.stage == stages[2]
    assert (deal.amount, deal.currency) == (Decimal("1500"), "EUR")
    assert deal.expected_close == dt.date(2027, 1, 31)


def test_move_to_lost_asks_for_a_reason_from_the_list(alice_client, deal, stages):
    lost = stages[-1]
    response = move(alice_client, deal, lost)
    assert 'name="loss_reason"' in response.text
    reason = LossReason.objects.first()
    done = move(alice_client, deal, lost, asked="loss_reason", loss_reason=reason.pk)
    assert done.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == lost and deal.loss_reason == reason and deal.closed_at


def test_move_asks_for_contact_persons_among_the_companys_people(
    alice_client, alice, deal, company, stages
):
    person = client_services.create_client(
        alice, "person", {"last_name": "Рябов", "first_name": "Иван", "owner": alice}
    )
    client_services.link_person(alice, person, company, "director", "")
    target = stages[0]
    services.move_deal(alice, deal, stages[-1], 1, {"loss_reason": LossReason.objects.first()})
    deal.refresh_from_db()
    Stage.objects.filter(pk=target.pk).update(required_fields=["contacts"])
    asked = move(alice_client, deal, target)
    assert asked.status_code == 200 and 'name="contacts"' in asked.text
    assert "Рябов Иван" in asked.text
    done = move(alice_client, deal, target, asked="contacts", contacts=person.pk)
    assert done.status_code == 200 and "kanban:moved" in triggers(done)
    deal.refresh_from_db()
    assert deal.stage == target and list(deal.contacts.all()) == [person]
    card = alice_client.get(reverse("sales:card", args=[deal.pk]))
    assert reverse("clients:card", args=[person.pk]) in card.text


def test_stale_move_is_refused_and_the_board_refreshed(alice_client, alice, ready, stages):
    deal = ready
    services.move_deal(alice, deal, stages[3], 1)  # someone moved it first
    response = move(alice_client, deal, stages[1], version=1)
    assert response.status_code == 409
    assert "Someone else moved this deal; the board is refreshed." in response.text
    assert "kanban:stale" in triggers(response)
    assert len(response.context["columns"]) == len(stages)  # the whole board
    deal.refresh_from_db()
    assert deal.stage == stages[3] and deal.version == 2


def test_move_without_the_right_to_edit_says_why(client, alice, ready, stages, bob):
    deal = ready
    marketer = make_user("mark", role="marketer")  # sees every deal, edits none
    client.force_login(marketer)
    assert client.get(reverse("sales:card", args=[deal.pk])).status_code == 200
    response = move(client, deal, stages[3])
    assert response.status_code == 403
    assert "You may not change this deal" in response.text
    deal.refresh_from_db()
    assert deal.stage == stages[0] and deal.version == 1
    # A stage of another pipeline, or none at all.
    client.force_login(alice)
    other = services.install_blueprint(None, "strategic").stages.first()
    for stage in (other, Stage(pk=999999)):
        wrong = move(client, deal, stage)
        assert wrong.status_code == 422 and "Choose a stage of the deal" in wrong.text
    deal.refresh_from_db()
    assert deal.stage == stages[0] and deal.version == 1
    # A colleague who may not see the deal does not learn it exists.
    client.force_login(bob)
    assert move(client, deal, stages[3]).status_code == 404


def test_move_from_the_card_asks_on_a_page(alice_client, deal, stages):
    url = reverse("sales:move", args=[deal.pk])
    asked = alice_client.post(url, {"stage": stages[1].pk, "version": 1})
    assert asked.status_code == 200 and 'name="amount"' in asked.text
    assert 'name="filters"' not in asked.text
    done = alice_client.post(
        url,
        {"stage": stages[1].pk, "version": 1, "asked": "amount", "amount": "10", "currency": "RUB"},
    )
    assert done.status_code == 302 and done["Location"] == reverse("sales:card", args=[deal.pk])
    stale = alice_client.post(url, {"stage": stages[3].pk, "version": 1})
    assert stale.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == stages[1]
    page = alice_client.get(reverse("sales:card", args=[deal.pk]))
    assert "Someone else changed this deal" in page.text
    first, second = Stage.objects.order_by("position")[:2]
    assert first.name in page.text and second.name in page.text  # history rows


def test_list_filters_and_hides_others(alice_client, alice, company, deal, foreign_deal, stages):
    services.move_deal(
        alice,
        services.create_deal(alice, {"title": "Выиграна", "client": company, "amount": 5}),
        stages[4],
        1,
    )
    response = alice_client.get(reverse("sales:list"))
    assert response.status_code == 200
    assert "Сорок стульев" in response.text and "Выиграна" in response.text
    assert "Чужая сделка" not in response.text
    won = alice_client.get(reverse("sales:list"), {"status": "won"})
    assert "Выиграна" in won.text and "Сорок стульев" not in won.text
    by_stage = alice_client.get(reverse("sales:list"), {"stage": stages[0].pk})
    assert "Сорок стульев" in by_stage.text and "Выиграна" not in by_stage.text
    hostile = alice_client.get(reverse("sales:list"), {"owner": "owner__password", "cursor": "x"})
    assert hostile.status_code == 200


def test_list_pages_with_keyset(alice_client, alice, company):
    for i in range(55):
        services.create_deal(alice, {"title": f"Сделка {i:02d}", "client": company})
    first = alice_client.get(reverse("sales:list"))
    assert len(first.context["page"].rows) == 50 and first.context["page"].next_cursor
    second = alice_client.get(
        reverse("sales:list"), {"cursor": first.context["page"].next_cursor}, **HTMX
    )
    assert len(second.context["page"].rows) == 5 and "Сделка 00" in second.text


def test_card_of_another_owners_deal_is_404(alice_client, foreign_deal):
    response = alice_client.get(reverse("sales:card", args=[foreign_deal.pk]))
    assert response.status_code == 404
    assert alice_client.get(reverse("sales:edit", args=[foreign_deal.pk])).status_code == 404


def test_create_from_the_client_card(alice_client, alice, company):
    card = alice_client.get(reverse("clients:card", args=[company.pk]))
    new_url = reverse("sales:create") + f"?client={company.pk}"
    assert new_url in card.text
    form = alice_client.get(new_url)
    assert form.status_code == 200 and "ООО Ромашка" in form.text
    response = alice_client.post(
        new_url,
        {"title": "  Сорок   стульев ", "client": company.pk, "owner": alice.pk, "currency": "RUB"},
    )
    deal = Deal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:card", args=[deal.pk])
    assert (deal.title, deal.client, deal.owner) == ("Сорок стульев", company, alice)
    card = alice_client.get(reverse("clients:card", args=[company.pk]))
    first = Stage.objects.order_by("position").first()
    assert "Сорок стульев" in card.text and first is not None and first.name in card.text


def test_create_refuses_a_client_the_user_may_not_see(alice_client, alice, carol):
    hidden = client_services.create_client(carol, "company", {"company_name": "Лютик"})
    response = alice_client.post(
        reverse("sales:create"),
        {"title": "x", "client": hidden.pk, "owner": alice.pk, "currency": "RUB"},
    )
    assert response.status_code == 422 and "Choose a client you may see." in response.text
    assert "Лютик" not in response.text
    assert not Deal.objects.exists()
    missing = alice_client.post(reverse("sales:create"), {"title": "x", "currency": "RUB"})
    assert missing.status_code == 422 and not Deal.objects.exists()


def test_client_search_finds_visible_clients_only(alice_client, company, carol):
    client_services.create_client(carol, "company", {"company_name": "Ромашка-2"})
    response = alice_client.get(reverse("sales:client_search"), {"client_q": "ромаш"})
    assert "ООО Ромашка" in response.text and "Ромашка-2" not in response.text
    assert f'value="{company.pk}"' in response.text


def test_edit_and_stale_edit(alice_client, alice, deal, company):
    url = reverse("sales:edit", args=[deal.pk])
    form = {
        "title": "Сорок два стула",
        "client": company.pk,
        "owner": alice.pk,
        "amount": "4200",
        "currency": "RUB",
        "expected_close": "",
        "source": "",
        "next_step": "позвонить",
        "version": 1,
    }
    assert alice_client.get(url).status_code == 200
    assert alice_client.post(url, form).status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.amount, deal.version) == ("Сорок два стула", 4200, 2)
    stale = alice_client.post(url, {**form, "title": "Мой вариант", "version": 1})
    assert stale.status_code == 409
    assert "Someone else changed this deal" in stale.text
    assert 'value="Мой вариант"' in stale.text
    deal.refresh_from_db()
    assert deal.title == "Сорок два стула"
    negative = alice_client.post(url, {**form, "amount": "-1", "version": 2})
    assert negative.status_code == 422


def test_markup_in_a_title_is_shown_as_text(alice_client, alice, company):
    deal = services.create_deal(alice, {"title": XSS, "client": company})
    for url in (
        reverse("sales:board"),
        reverse("sales:list"),
        reverse("sales:card", args=[deal.pk]),
        reverse("clients:card", args=[company.pk]),
    ):
        text = alice_client.get(url).text
        assert "<img src=x" not in text and "<script>alert" not in text, url
        assert "&lt;img src=x onerror=alert(1)&gt;" in text, url


def test_trash_and_restore_for_those_allowed(alice_client, helen, alice, deal):
    helen_client = Client()
    helen_client.force_login(helen)
    assert alice_client.post(reverse("sales:trash", args=[deal.pk])).status_code == 404
    assert Deal.objects.filter(pk=deal.pk).exists()
    card = helen_client.get(reverse("sales:card", args=[deal.pk]))
    assert "hx-confirm" in card.text
    response = helen_client.post(reverse("sales:trash", args=[deal.pk]), **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"]
    assert not Deal.objects.filter(pk=deal.pk).exists()
    assert "Restore from the trash" in helen_client.get(reverse("sales:card", args=[deal.pk])).text
    assert alice_client.get(reverse("sales:card", args=[deal.pk])).status_code == 404
    assert helen_client.post(reverse("sales:restore", args=[deal.pk])).status_code == 302
    assert Deal.objects.filter(pk=deal.pk).exists()


def test_pipelines_page_for_administrators(client, admin, alice):
    client.force_login(alice)
    assert client.get(reverse("sales:pipelines")).status_code == 403
    client.force_login(admin)
    response = client.post(reverse("sales:pipelines"), {"blueprint": "strategic", "name": ""})
    assert response.status_code == 302
    assert Pipeline.objects.filter(name="Tenders and strategic deals").exists()
    page = client.get(reverse("sales:pipelines"))
    assert "Shortlisted" in page.text and "expected close date" in page.text
    again = client.post(reverse("sales:pipelines"), {"blueprint": "strategic", "name": ""})
    assert again.status_code == 422 and "A pipeline with this name exists." in again.text
    # With two pipelines the board offers a choice.
    board = client.get(reverse("sales:board"))
    assert 'name="pipeline"' in board.text
