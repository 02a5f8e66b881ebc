"""The pure engine: choices, digit input, answers, back, retries, timeouts, depth, cycles."""

from __future__ import annotations

import pytest

from kartoteka.ivr import engine
from kartoteka.ivr.engine import (
    Checked,
    Collect,
    Crm,
    Ended,
    Hangup,
    Node,
    Route,
    Say,
    Spoken,
    State,
    Tree,
    TreeError,
)

DEALS = {"1234": 7}  # deal number -> client id


def check(kind: str, digits: str, client_id: int | None) -> Checked:
    owner = DEALS.get(digits)
    if kind != "deal" or owner is None or (client_id is not None and owner != client_id):
        return Checked(False)
    return Checked(True, owner, {"_deal": digits})


def answer(kind: str, client_id: int | None, values: dict[str, str]) -> Spoken:
    return Spoken(f"{kind} of {client_id} deal {values.get('_deal', '-')}", "42")


CRM = Crm(check=check, answer=answer)


def tree(fallback: str = "") -> Tree:
    return Tree.build(
        [
            Node(1, "menu", title="Main", prompt="Press 1 for billing, 2 for sales"),
            Node(2, "menu", parent=1, digit="1", title="Billing", prompt="Press 1 for deal"),
            Node(3, "route", parent=1, digit="2", title="Sales", queue="sales"),
            Node(4, "hangup", parent=1, digit="9", title="Bye", prompt="Bye now"),
            Node(
                5,
                "input",
                parent=2,
                digit="1",
                title="Deal number",
                prompt="Enter the deal number",
                key="deal",
                check="deal",
                min_digits=3,
                max_digits=6,
                retries=2,
                timeout_s=7,
            ),
            Node(6, "answer", parent=5, title="Stage", answer="deal_stage"),
            Node(7, "back", parent=2, digit="0", title="Back"),
        ],
        fallback_queue=fallback,
    )


def walk(t: Tree, *inputs: str | None, client: int | None = None) -> engine.Step:
    step = engine.start(t, CRM, client)
    for digits in inputs:
        step = engine.feed(t, CRM, step.state, digits)
    return step


def test_start_says_the_root_prompt_and_waits_for_one_digit():
    step = walk(tree())
    assert step.actions == (Say("Press 1 for billing, 2 for sales"), Collect(1, 5, 1))
    assert step.state.node == 1 and not step.state.done


def test_a_choice_routes_to_its_queue():
    step = walk(tree(), "2")
    assert step.last == Route("sales") and step.state.done and step.state.queue == "sales"


def test_digit_input_checked_then_answer_then_back_to_the_menu():
    t = tree()
    step = walk(t, "1", "1", "1234#")
    said = [a.text for a in step.actions if isinstance(a, Say)]
    assert said == ["deal_stage of 7 deal 1234", "Press 1 for deal"]
    assert step.actions[0] == Say("deal_stage of 7 deal 1234", digits="42")
    assert step.last == Collect(1, 5, 1) and step.state.node == 2
    assert step.state.values == {"_deal": "1234", "deal": "1234"}
    assert step.state.client_id == 7
    assert engine.shown(step.state.values) == {"deal": "1234"}
    assert engine.readable_path(t, step.state) == "Billing › Deal number › Stage › Billing"


def test_input_collect_uses_the_nodes_limits():
    step = walk(tree(), "1", "1")
    assert step.last == Collect(6, 7, 3)


@pytest.mark.parametrize("digits", ["12", "1234567", "12a4", "²³⁴", "9999", "1'; DROP TABLE--"])
def test_invalid_input_is_retried_then_the_caller_is_said_goodbye(digits):
    first = walk(tree(), "1", "1", digits)
    assert first.actions[0] == Say("Sorry, that is not a valid choice.")
    assert first.last == Collect(6, 7, 3) and first.state.tries == 1
    second = engine.feed(tree(), CRM, first.state, digits)
    assert second.last == Hangup() and second.state.done
    assert "deal" not in second.state.values


def test_a_deal_of_another_client_is_refused():
    step = walk(tree(), "1", "1", "1234", client=8)
    assert step.state.tries == 1 and "deal" not in step.state.values


def test_invalid_menu_digit_repeats_the_prompt_and_counts():
    step = walk(tree(), "5")
    assert step.actions == (
        Say("Sorry, that is not a valid choice."),
        Say("Press 1 for billing, 2 for sales"),
        Collect(1, 5, 1),
    )
    assert step.state.tries == 1


def test_timeouts_count_to_the_retry_limit_then_the_fallback_queue():
    step = walk(tree(fallback="operators"), None, None)
    assert step.state.tries == 2 and step.last == Collect(1, 5, 1)
    step = engine.feed(tree(fallback="operators"), CRM, step.state, None)
    assert step.last == Route("operators") and step.state.queue == "operators"


def test_without_a_fallback_the_limit_hangs_up():
    step = walk(tree(), "x", "", None)
    assert step.actions[-2:] == (Say("Goodbye."), Hangup())


def test_a_good_choice_resets_the_tries():
    step = walk(tree(), "7", "7", "1")
    assert step.state.tries == 0 and step.state.node == 2


def test_star_goes_back_and_hash_repeats():
    t = tree()
    assert walk(t, "1", "*").state.node == 1
    assert walk(t, "1", "1", "*").state.node == 2  # from an input: the menu above it
    assert walk(t, "*").state.node == 1  # the root has nothing above: itself again
    repeat = walk(t, "1", "#")
    assert repeat.actions == (Say("Press 1 for deal"), Collect(1, 5, 1))
    assert repeat.state.tries == 0


def test_a_back_node_goes_to_the_menu_above():
    step = walk(tree(), "1", "0")
    assert step.state.node == 1 and step.last == Collect(1, 5, 1)


def test_hangup_node_says_its_prompt_only():
    step = walk(tree(), "9")
    assert step.actions == (Say("Bye now"), Hangup())


def test_input_after_the_end_is_refused():
    step = walk(tree(), "2")
    with pytest.raises(Ended):
        engine.feed(tree(), CRM, step.state, "1")


def test_state_survives_json():
    step = walk(tree(), "1", "1", "1234")
    again = State.from_json(step.state.to_json())
    assert again == step.state


def test_a_node_removed_under_a_live_call_ends_it_politely():
    t = tree()
    step = walk(t, "1")
    smaller = Tree.build([Node(1, "menu", title="Main")], fallback_queue="operators")
    assert engine.feed(smaller, CRM, step.state, "1").last == Route("operators")


def test_a_route_whose_queue_is_gone_hangs_up():
    t = Tree.build([Node(1, "menu"), Node(2, "route", parent=1, digit="1")])
    assert walk(t, "1").last == Hangup()


def test_an_answer_at_the_root_hangs_up_instead_of_looping():
    t = Tree.build([Node(1, "answer", answer="open_deals")])
    step = engine.start(t, CRM, 7)
    assert step.last == Hangup()


def test_chained_answers_return_to_the_menu():
    t = Tree.build(
        [
            Node(1, "menu"),
            Node(2, "answer", parent=1, digit="1", answer="a"),
            Node(3, "answer", parent=2, answer="b"),
        ]
    )
    step = walk(t, "1")
    assert [a.text for a in step.actions if isinstance(a, Say)] == [
        "a of None deal -",
        "b of None deal -",
    ]
    assert step.state.node == 1 and step.last == Collect(1, 5, 1)


def test_a_long_call_keeps_a_bounded_path():
    t = tree()
    step = walk(t, *["1", "*"] * 40)
    assert len(step.state.path) <= engine.MAX_PATH


def test_trees_must_have_one_root():
    with pytest.raises(TreeError):
        Tree.build([Node(1, "menu"), Node(2, "menu")])


def test_cycles_are_refused():
    with pytest.raises(TreeError):
        Tree.build([Node(1, "menu"), Node(2, "menu", parent=3), Node(3, "menu", parent=2)])


def test_a_missing_parent_is_refused():
    with pytest.raises(TreeError):
        Tree.build([Node(1, "menu"), Node(2, "menu", parent=99)])


def test_depth_is_limited():
    deep = [Node(1, "menu")] + [
        Node(i, "menu", parent=i - 1, digit="1") for i in range(2, engine.MAX_DEPTH + 3)
    ]
    with pytest.raises(TreeError):
        Tree.build(deep)
    assert Tree.build(deep[:-1]).root == 1
