"""Administrators edit a pipeline's stages; deals' history keeps its stages."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from kartoteka.clients import services as clients
from kartoteka.core.models import AuditEntry
from kartoteka.core.permissions import Denied
from kartoteka.sales import services, stages
from kartoteka.sales.models import Pipeline, Stage


@pytest.fixture
def pipeline(db) -> Pipeline:
    return Pipeline.objects.get()


def fields(**given):
    base = {"name": "Переговоры", "position": 3, "probability": 50, "kind": "open"}
    return {**base, "required_fields": ["amount"], **given}


def test_admin_changes_and_adds_stages(admin, pipeline):
    first = pipeline.stages.first()
    changed = stages.save_stage(admin, pipeline, first, fields(name="Входящий", probability=15))
    assert (changed.name, changed.probability, changed.required_fields) == (
        "Входящий",
        15,
        ["amount"],
    )
    added = stages.save_stage(
        admin, pipeline, None, fields(required_fields=["next_step", "amount"])
    )
    assert added.pipeline == pipeline and added.required_fields == ["amount", "next_step"]
    assert AuditEntry.objects.filter(action="configure").count() == 2


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"probability": 101}, "probability"),
        ({"kind": "maybe"}, "kind"),
        ({"required_fields": ["deleted_at"]}, "required_fields"),
        ({"name": "  "}, "name"),
    ],
)
def test_bad_stages_are_refused_naming_the_field(admin, pipeline, given, field):
    before = list(pipeline.stages.values_list("name", "probability", "kind"))
    with pytest.raises(ValidationError) as caught:
        stages.save_stage(admin, pipeline, pipeline.stages.first(), fields(**given))
    assert field in caught.value.message_dict
    assert list(pipeline.stages.values_list("name", "probability", "kind")) == before


def test_a_pipeline_keeps_an_open_stage_and_stages_with_deals(admin, alice, pipeline):
    duplicate = pipeline.stages.last().name
    with pytest.raises(ValidationError) as caught:
        stages.save_stage(admin, pipeline, None, fields(name=duplicate))
    assert "name" in caught.value.message_dict
    client = clients.create_client(alice, "person", {"last_name": "Клиент"})
    deal = services.create_deal(alice, {"title": "Сделка", "client": client})
    with pytest.raises(ValidationError):
        stages.delete_stage(admin, deal.stage)
    empty = stages.save_stage(admin, pipeline, None, fields(name="Лишний"))
    stages.delete_stage(admin, empty)
    assert not Stage.objects.filter(pk=empty.pk).exists()
    for stage in pipeline.stages.filter(kind="open").exclude(pk=deal.stage_id):
        stages.delete_stage(admin, stage)
    with pytest.raises(ValidationError) as caught:
        stages.save_stage(admin, pipeline, deal.stage, fields(name=deal.stage.name, kind="won"))
    assert "kind" in caught.value.message_dict


def test_only_administrators_edit_stages(alice, helen, pipeline, client):
    for user in (alice, helen):
        with pytest.raises(Denied):
            stages.save_stage(user, pipeline, None, fields())
        client.force_login(user)
        url = reverse("sales:pipeline_stages", args=[pipeline.pk])
        assert client.get(url).status_code == 403
        stage = pipeline.stages.first()
        assert client.post(reverse("sales:stage_delete", args=[stage.pk])).status_code == 403
        assert Stage.objects.filter(pk=stage.pk).exists()


def test_the_stages_page_saves_one_stage(admin, pipeline, client):
    client.force_login(admin)
    url = reverse("sales:pipeline_stages", args=[pipeline.pk])
    page = client.get(url)
    assert page.status_code == 200 and "New stage" in page.content.decode()
    stage = pipeline.stages.first()
    prefix = f"s{stage.pk}"
    form = {
        "stage": str(stage.pk),
        f"{prefix}-name": "<b>Лид</b>",
        f"{prefix}-position": "0",
        f"{prefix}-probability": "12",
        f"{prefix}-kind": "open",
        f"{prefix}-required_fields": ["source"],
    }
    assert client.post(url, form).status_code == 302
    stage.refresh_from_db()
    assert (stage.name, stage.probability, stage.required_fields) == ("<b>Лид</b>", 12, ["source"])
    assert "&lt;b&gt;Лид&lt;/b&gt;" in client.get(url).content.decode()
    bad = client.post(url, {**form, f"{prefix}-probability": "150"})
    assert bad.status_code == 422


def test_the_deal_card_shows_the_clients_timeline_since_the_deal(alice, alice_client):
    from kartoteka.activities.services import log_interaction

    client = clients.create_client(alice, "person", {"last_name": "Клиент"})
    deal = services.create_deal(alice, {"title": "Сделка", "client": client})
    log_interaction(alice, client, {"kind": "call", "subject": "Обсудили условия"})
    card = alice_client.get(reverse("sales:card", args=[deal.pk])).content.decode()
    timeline = reverse("clients:timeline", args=[client.pk])
    since = f"{timezone.localtime(deal.created_at):%Y-%m-%d}"  # the day as the user sees it
    assert f'hx-get="{timeline}?since={since}"' in card
    rows = alice_client.get(f"{timeline}?since={since}").content.decode()
    assert "Обсудили условия" in rows


def test_the_demo_fills_the_board(db):
    from io import StringIO

    from django.core.management import call_command

    from kartoteka.sales.models import Deal, StageChange

    out = StringIO()
    call_command("demo", clients=40, seed=3, deals=12, json=True, stdout=out)
    deals = Deal.objects.select_related("stage", "client")
    assert deals.count() == 12 and '"deals": 12' in out.getvalue()
    assert all(d.owner_id == d.client.owner_id for d in deals)
    lost = [d for d in deals if d.stage.kind == "lost"]
    assert all(d.loss_reason_id for d in lost)
    assert StageChange.objects.count() >= 12
