"""The editor's services: the graph's checks, versions, refusals that leave nothing changed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kartoteka.callscripts import graph, services
from kartoteka.callscripts.models import Script, Step
from kartoteka.callscripts.services import OptionData, ScriptData, StepData
from kartoteka.core.errors import StaleVersion
from kartoteka.core.permissions import Denied
from tests.callscripts.conftest import build

pytestmark = pytest.mark.django_db


def node(pk: int, kind: str = "text", nxt: int | None = None, **extra) -> graph.Node:
    return graph.Node(id=pk, number=pk, kind=kind, next_step=nxt, no_step=None, **extra)


def test_graph_names_what_is_broken_and_what_is_odd():
    found = graph.check(
        [
            node(1, "choice", options=[("a", 2), ("b", None), ("c", 99)]),
            node(2, nxt=1),  # a loop back to the menu: allowed
            node(3, "final"),  # nobody leads here
            node(4, "text", text="Hi {frist_name}"),
        ]
    )
    assert "Step 1: “b” leads nowhere; pick the next step." in found.errors
    assert "Step 1: “c” leads to a deleted step." in found.errors
    assert "Step 4: “next” leads nowhere; pick the next step." in found.errors
    assert "Step 3 cannot be reached from step 1." in found.warnings
    assert any("{frist_name}" in w for w in found.warnings)
    assert not any("Step 2" in e for e in found.errors)
    assert graph.check([]).errors == ["The script has no steps."]
    assert "The script has no final step." in graph.check([node(1, nxt=1)]).errors


def test_a_built_script_has_no_problems(script):
    assert services.problems(script) == graph.Problems()
    assert script.is_active and script.version > 1


def test_a_broken_script_cannot_go_into_use(helen):
    made = services.create_script(helen, ScriptData(name="Half"))
    services.save_step(helen, made, None, None, StepData(text="Ask", kind="choice"))
    made.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        services.update_script(helen, made, made.version, ScriptData(name="Half", is_active=True))
    assert "add at least one option" in caught.value.message_dict["is_active"][0]
    assert Script.objects.get(pk=made.pk).is_active is False


def test_an_edit_that_would_break_a_script_in_use_changes_nothing(helen, script):
    first = services.live_steps(script)[0]
    before = script.version
    with pytest.raises(ValidationError):
        services.save_step(helen, script, before, first, StepData(text="Hi", kind="choice"))
    script.refresh_from_db()
    assert script.version == before and first.options.count() == 2


def test_links_must_stay_inside_the_script(helen, script):
    other = build(helen, name="Other")
    foreign = services.live_steps(other)[1].pk
    own = services.live_steps(script)
    data = StepData(
        text="x", kind="choice", options=[OptionData("a", foreign), OptionData("b", own[1].pk)]
    )
    with pytest.raises(ValidationError) as caught:
        services.save_step(helen, script, None, own[0], data)
    assert caught.value.message_dict == {
        "options.0.next_step": ["There is no such step in this script."]
    }
    stolen = other.steps.first().options.first()
    data = StepData(text="x", kind="choice", options=[OptionData("a", own[1].pk, stolen.pk)])
    with pytest.raises(ValidationError) as caught:
        services.save_step(helen, script, None, own[0], data)
    assert "options.0.id" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.save_step(
            helen, script, None, own[1], StepData(text="x", kind="number", next_step_id=foreign)
        )
    assert "next_step" in caught.value.message_dict


def test_a_step_others_lead_to_cannot_be_deleted(helen, script):
    steps = services.live_steps(script)
    with pytest.raises(ValidationError) as caught:
        services.delete_step(helen, script, None, steps[3])
    assert "Steps 1, 3 lead to this step" in caught.value.messages[0]
    assert Step.objects.filter(pk=steps[3].pk).exists()


def test_an_unreferenced_step_goes_softly(helen, script):
    extra = services.save_step(helen, script, None, None, StepData(text="Spare", kind="final"))
    services.delete_step(helen, script, None, extra)
    assert not Step.objects.filter(pk=extra.pk).exists()
    assert Step.all_objects.get(pk=extra.pk).deleted_at is not None


def test_a_stale_version_is_refused(helen, script):
    with pytest.raises(StaleVersion):
        services.update_script(helen, script, script.version - 1, ScriptData(name="Renamed"))
    assert Script.objects.get(pk=script.pk).name == "Sales"


def test_operators_and_managers_cannot_edit_scripts(olga, alice, script):
    for user in (olga.user, alice):
        with pytest.raises(Denied):
            services.create_script(user, ScriptData(name="Mine"))
        with pytest.raises(Denied):
            services.trash_script(user, script)
    assert Script.objects.count() == 1


def test_trash_and_restore(helen, script):
    services.trash_script(helen, script)
    assert not Script.objects.filter(pk=script.pk).exists()
    services.restore_script(helen, script)
    restored = Script.objects.get(pk=script.pk)
    assert restored.is_active is False  # back, but out of use until someone checks it


def test_names_are_checked(helen):
    with pytest.raises(ValidationError) as caught:
        services.create_script(helen, ScriptData(name="  ", direction="sideways"))
    assert set(caught.value.message_dict) == {"name", "direction"}
