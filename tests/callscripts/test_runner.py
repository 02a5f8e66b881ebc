"""A script walked on a call: the path as rows, back, resume, the suggested result, and the
answers a hostile or confused client sends."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kartoteka.callcenter.models import Call, Disposition
from kartoteka.callscripts import placeholders, runner, services
from kartoteka.callscripts.models import Answer, Run, Script
from kartoteka.callscripts.services import ScriptData
from kartoteka.core import permissions
from kartoteka.core.permissions import Denied
from tests.callscripts.conftest import build, make_call

pytestmark = pytest.mark.django_db


def walk(user, call, *answers):
    state = runner.state(user, call)
    for kind, given in answers:
        option = next(o.pk for o in state.options if o.label == given) if kind == "option" else None
        value = given if kind == "value" else ""
        state = runner.answer(user, call, state.script.pk, state.step.pk, option, value)
    return state


def test_the_first_step_greets_the_client_by_name(olga, script, call):
    state = runner.state(olga.user, call)
    assert state.said == "Hello Ivan! Is it a good time?"
    assert state.number == 1 and state.run is None and state.can_answer
    assert Run.objects.count() == 0  # reading writes nothing


def test_walking_to_the_end_keeps_every_answer_and_suggests_the_result(olga, script, call):
    state = walk(
        olga.user,
        call,
        ("option", "interested"),
        ("value", " 12,50 "),
        ("value", "yes"),
        ("final", ""),
    )
    assert state.finished and state.step is None
    assert [a.value for a in state.path] == ["interested", "12.50", "yes", ""]
    assert state.path[0].said == "Hello Ivan! Is it a good time?"
    run = Run.objects.get(call=call)
    assert run.script_version == script.version and run.started_by == olga.user
    call.refresh_from_db()
    assert call.disposition == Disposition.objects.get(name="Sale")


def test_a_chosen_result_is_not_overwritten(olga, script, call):
    other = Disposition.objects.create(name="Other")
    Call.objects.filter(pk=call.pk).update(disposition=other)
    call.refresh_from_db()
    walk(olga.user, call, ("option", "busy"), ("final", ""))
    call.refresh_from_db()
    assert call.disposition == other


def test_back_keeps_the_row_and_resumes_where_the_operator_was(olga, script, call):
    walk(olga.user, call, ("option", "interested"), ("value", "3"))
    state = runner.back(olga.user, call)
    assert state.number == 2 and [a.value for a in state.path] == ["interested"]
    assert Answer.objects.filter(run__call=call).count() == 2  # the undone row stays
    again = runner.state(olga.user, Call.objects.get(pk=call.pk))  # a reload
    assert again.number == 2 and again.said == "How many boxes?"


def test_back_after_the_end_opens_the_run_again(olga, script, call):
    walk(olga.user, call, ("option", "busy"), ("final", ""))
    state = runner.back(olga.user, call)
    assert not state.finished and state.number == 4


@pytest.mark.parametrize("value", ["abc", "1e999", "NaN", "Infinity", "1" * 50, "", "٣"])
def test_a_number_question_refuses_what_is_not_a_number(olga, script, call, value):
    state = walk(olga.user, call, ("option", "interested"))
    with pytest.raises(ValidationError) as caught:
        runner.answer(olga.user, call, script.pk, state.step.pk, None, value)
    assert list(caught.value.message_dict) == ["value"]
    assert Answer.objects.count() == 1


def test_an_option_of_another_step_or_script_is_refused(olga, helen, script, call):
    other = build(helen, name="Zeta")  # after "Sales" by name: not the one that applies
    foreign = services.live_steps(other)[0].options.first()
    state = runner.state(olga.user, call)
    with pytest.raises(ValidationError) as caught:
        runner.answer(olga.user, call, script.pk, state.step.pk, foreign.pk)
    assert list(caught.value.message_dict) == ["option"]
    with pytest.raises(ValidationError) as caught:
        runner.answer(olga.user, call, other.pk, state.step.pk, foreign.pk)
    assert list(caught.value.message_dict) == ["script"]
    assert not Run.objects.exists()


def test_an_answer_to_a_step_the_run_has_left_is_refused(olga, script, call):
    first = runner.state(olga.user, call)
    walk(olga.user, call, ("option", "interested"))
    option = first.options[1].pk
    with pytest.raises(ValidationError) as caught:
        runner.answer(olga.user, call, script.pk, first.step.pk, option)
    assert "moved on" in caught.value.message_dict["step"][0]
    assert Answer.objects.count() == 1


def test_huge_text_is_refused(olga, helen, call):
    made = services.create_script(helen, ScriptData(name="Note"))
    end = services.save_step(helen, made, None, None, services.StepData(text="Bye", kind="final"))
    ask = services.save_step(
        helen,
        made,
        None,
        None,
        services.StepData(text="Why?", kind="text", next_step_id=end.pk, position=0),
    )
    made.refresh_from_db()
    services.update_script(helen, made, made.version, ScriptData(name="Note", is_active=True))
    with pytest.raises(ValidationError):
        runner.answer(olga.user, call, made.pk, ask.pk, None, "x" * (runner.MAX_ANSWER + 1))
    state = runner.answer(olga.user, call, made.pk, ask.pk, None, "<script>alert(1)</script>")
    assert state.path[0].value == "<script>alert(1)</script>"  # stored as typed, escaped when shown


def test_another_operator_cannot_answer(oleg, script, call):
    state = runner.state(oleg.user, call)
    assert state.can_answer is False
    with pytest.raises(Denied):
        runner.answer(oleg.user, call, script.pk, state.step.pk, state.options[0].pk)
    with pytest.raises(Denied):
        runner.back(oleg.user, call)
    assert not Run.objects.exists()


def test_the_head_of_the_team_may_answer(helen, script, call):
    permissions.forget(helen)  # rights were read before olga joined the team
    state = runner.state(helen, call)
    assert state.can_answer
    assert runner.answer(helen, call, script.pk, state.step.pk, state.options[1].pk).number == 4


def test_which_script_applies(helen, olga, queue):
    everywhere = build(helen, name="B everywhere")
    only_sales = build(helen, name="Z sales", queues=[queue])
    outbound = build(helen, name="A outbound", direction="out")
    assert runner.applicable(make_call(olga, queue="sales")) == only_sales
    assert runner.applicable(make_call(olga, queue="support")) == everywhere
    assert runner.applicable(make_call(olga, queue="", direction="out")) == outbound
    services.trash_script(helen, outbound)
    assert runner.applicable(make_call(olga, queue="", direction="out")) == everywhere
    Script.objects.update(is_active=False)
    assert runner.state(olga.user, make_call(olga)) is None


def test_placeholders_never_reach_into_objects():
    known = placeholders.values(type("C", (), {"first_name": "Ivan"})(), None)
    text = "{first_name} {client.__class__} {0} {last_name}{{first_name}} {% load x %}"
    assert placeholders.fill(text, known) == "Ivan {client.__class__} {0} {Ivan} {% load x %}"
