"""Segment rules: each field compiles to the clients it names; hostile input is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kartoteka.accounts.models import FieldRule
from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client, CustomField, Tag
from kartoteka.sales.models import Deal, Pipeline
from kartoteka.segments.recompute import recompute
from kartoteka.segments.rules import catalogue, compile_rules
from tests.segments.factories import at, buy, client

pytestmark = pytest.mark.django_db


def names(rules, user) -> set[str]:
    q = compile_rules(rules, user)
    return set(Client.objects.filter(q).values_list("name", flat=True))


def one(field, op, value, **extra):
    return {"match": "all", "conditions": [{"field": field, "op": op, "value": value, **extra}]}


@pytest.fixture
def base(alice, bob):
    CustomField.objects.create(key="size", label="Size", type="number")
    CustomField.objects.create(key="vip", label="VIP", type="boolean")
    CustomField.objects.create(key="segment_name", label="Seg", type="choice", choices=["x", "y"])
    ann = client("Ann", owner=alice, stage="customer", source="website")
    ann.custom = {"size": 50, "vip": True, "segment_name": "x"}
    ann.save()
    ann.tags.add(Tag.objects.create(name="wholesale"))
    ben = client("Ben", owner=bob, stage="lead")
    ben.custom = {"size": 5, "vip": False}
    ben.save()
    cat = client("Cat", owner=None, stage="prospect", source="referral")
    now = timezone.now()
    for days in (1, 2, 40):
        buy(ann, (now - dt.timedelta(days=days)).date(), 100)
    buy(ben, (now - dt.timedelta(days=400)).date(), 10)
    Interaction.objects.create(client=cat, kind="call", occurred_at=now - dt.timedelta(days=3))
    pipeline = Pipeline.objects.first()
    Deal.objects.create(
        pipeline=pipeline,
        stage=pipeline.stages.get(kind="won")
        if pipeline.stages.filter(kind="won").exists()
        else pipeline.stages.first(),
        title="d",
        client=ann,
        owner=alice,
        stage_entered_at=now,
    )
    return ann, ben, cat


def test_plain_fields(base, alice):
    assert names(one("stage", "eq", "customer"), alice) == {"Ann"}
    assert names(one("stage", "in", ["lead", "prospect"]), alice) == {"Ben", "Cat"}
    assert names(one("source", "ne", "website"), alice) == {"Ben", "Cat"}
    assert names(one("owner", "eq", "me"), alice) == {"Ann"}
    assert names(one("owner", "isnull", True), alice) == {"Cat"}
    assert names(one("tag", "has", "wholesale"), alice) == {"Ann"}
    assert names(one("tag", "has_not", "wholesale"), alice) == {"Ben", "Cat"}
    assert names(one("created_at", "within_days", 1), alice) == {"Ann", "Ben", "Cat"}


def test_custom_fields(base, alice):
    assert names(one("custom.size", "gte", 10), alice) == {"Ann"}
    assert names(one("custom.vip", "eq", True), alice) == {"Ann"}
    assert names(one("custom.segment_name", "eq", "x"), alice) == {"Ann"}


def test_aggregates_count_missing_rows_as_zero(base, alice):
    assert names(one("purchases.count", "gte", 3), alice) == {"Ann"}
    assert names(one("purchases.count", "lt", 3), alice) == {"Ben", "Cat"}
    assert names(one("purchases.count", "eq", 0), alice) == {"Cat"}
    assert names(one("purchases.count", "gte", 1, days=30), alice) == {"Ann"}
    assert names(one("purchases.sum", "gt", 250), alice) == {"Ann"}
    assert names(one("purchases.last", "older_than_days", 365), alice) == {"Ben", "Cat"}
    assert names(one("purchases.last", "never", None), alice) == {"Cat"}
    assert names(one("interactions.count", "gte", 1, kind="call"), alice) == {"Cat"}
    assert names(one("interactions.last", "within_days", 7), alice) == {"Ann", "Cat"}
    assert names(one("deals.count", "gte", 1), alice) == {"Ann"}


def test_groups_any_and_all(base, alice):
    rules = {
        "match": "any",
        "conditions": [
            {"field": "stage", "op": "eq", "value": "lead"},
            {
                "match": "all",
                "conditions": [
                    {"field": "tag", "op": "has", "value": "wholesale"},
                    {"field": "purchases.sum", "op": "gte", "value": 300},
                ],
            },
        ],
    }
    assert names(rules, alice) == {"Ann", "Ben"}


def test_classes(base, alice):
    recompute(now=at(timezone.localdate() + dt.timedelta(days=40)))
    assert names(one("cycle", "in", ["loyal", "repeat", "first_order"]), alice) <= {"Ann"}
    assert names(one("rfm.f", "gte", 1), alice) >= {"Ann"}
    assert names(one("abc", "eq", ""), alice) >= {"Cat"}


HOSTILE = [
    one("_connector", "eq", "OR"),
    one("x__regex", "eq", ".*"),
    one("owner__password__startswith", "eq", "pbkdf2"),
    one("owner", "eq", "1 OR 1=1"),
    one("stage", "regex", ".*"),
    one("stage", "eq", "customer') --"),
    {
        "match": "all",
        "conditions": [{"field": "stage", "op": "eq", "value": "lead", "_connector": "OR"}],
    },
    {"match": "OR", "conditions": []},
    {"_connector": "OR", "conditions": [{"field": "stage", "op": "eq", "value": "lead"}]},
    one("custom.size", "gte", "NaN"),
    one("purchases.count", "gte", 1, days=10**9),
    one("interactions.count", "gte", 1, kind="x__regex"),
    one("created_at", "after", "2026-13-45"),
    "not an object",
    {"match": "all", "conditions": [[1, 2]]},
]


@pytest.mark.parametrize("rules", HOSTILE)
def test_hostile_rules_are_refused_with_a_path(base, alice, rules):
    with pytest.raises(ValidationError) as caught:
        compile_rules(rules, alice)
    assert all(key.startswith("rules") for key in caught.value.message_dict)


def test_depth_and_size_are_limited(base, alice):
    deep = {"match": "all", "conditions": [{"field": "stage", "op": "eq", "value": "lead"}]}
    for _ in range(3):
        deep = {"match": "all", "conditions": [deep]}
    with pytest.raises(ValidationError):
        compile_rules(deep, alice)
    many = {"match": "any", "conditions": [{"field": "stage", "op": "eq", "value": "lead"}] * 51}
    with pytest.raises(ValidationError):
        compile_rules(many, alice)


def test_a_hidden_custom_field_is_unknown_to_that_viewer(base, alice):
    CustomField.objects.filter(key="size").update(sensitive=True)
    FieldRule.objects.update_or_create(
        role=alice.role, field="sensitive", defaults={"access": "hidden"}
    )
    from kartoteka.core import permissions

    permissions.forget(alice)
    with pytest.raises(ValidationError):
        compile_rules(one("custom.size", "gte", 1), alice)
    assert "custom.size" not in {row["field"] for row in catalogue(alice)}
