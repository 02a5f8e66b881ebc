"""The IVR engine: a menu tree, the caller's state and an input in; the next actions out.

Pure: no database, no PBX, no clock. What it needs of the CRM (is this deal number real? what
is this client's balance?) comes in as two callables, so the JSON step API, the Asterisk
FastAGI handler and the editor's "try it" panel all walk a menu through this same code.

A step answers with zero or more `Say` actions and then exactly one of `Collect` (wait for
digits, then call `feed`), `Route` (to a queue: done) or `Hangup` (done).

Keys in a menu: a choice's digit selects it; `*` goes back to the menu above, `#` repeats
the prompt. An invalid key or a timeout counts a retry; at the node's retry limit the caller
goes to the menu's fallback queue, or is said goodbye and hung up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

MAX_DEPTH = 6  # levels below the root menu
MAX_DIGITS = 20  # the longest digit input a node may ask for
MAX_PATH = 50  # nodes remembered of a long call's way through the menu
KEYS = frozenset("0123456789*#")
NUMERALS = frozenset("0123456789")
BACK_KEY = "*"
REPEAT_KEY = "#"
# Hidden fact: the client the caller's own number found. Self-service answers speak only of that
# client; one found by typed digits (a client or deal id, a phone number) is for the card alone.
CALLER_FACT = "_caller"

MENU, INPUT, ANSWER, ROUTE, HANGUP, BACK = "menu", "input", "answer", "route", "hangup", "back"
WAITING = (MENU, INPUT)


class TreeError(ValueError):
    """The nodes do not make a tree the engine can walk (no root, a cycle, too deep, …)."""


class Ended(Exception):
    """Input for a session that already routed or hung up."""


# --- the menu --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    kind: str
    parent: int | None = None
    digit: str = ""  # selects it in its parent menu
    title: str = ""  # how the path reads on the call card
    prompt: str = ""  # text for a TTS
    sound: str = ""  # a sound file name for the PBX
    key: str = ""  # where a digit input's value is kept ("deal")
    check: str = ""  # how a digit input is validated against the CRM
    answer: str = ""  # which self-service answer to read
    queue: str = ""  # the queue a route sends the caller to
    min_digits: int = 1
    max_digits: int = 1
    retries: int = 3
    timeout_s: int = 5


@dataclass(frozen=True)
class Texts:
    """What the engine says itself; the caller passes them translated."""

    invalid: str = "Sorry, that is not a valid choice."
    goodbye: str = "Goodbye."
    transfer: str = "Please hold, connecting you to an operator."


@dataclass(frozen=True)
class Tree:
    root: int
    nodes: Mapping[int, Node]
    children: Mapping[int, tuple[int, ...]]
    fallback_queue: str = ""
    texts: Texts = field(default_factory=Texts)

    @classmethod
    def build(
        cls, nodes: Iterable[Node], fallback_queue: str = "", texts: Texts | None = None
    ) -> Tree:
        """A tree from nodes in display order; TreeError unless they form one rooted tree."""
        by_id = {node.id: node for node in nodes}
        roots = [node.id for node in by_id.values() if node.parent is None]
        if len(roots) != 1:
            raise TreeError("a menu has exactly one root node")
        children: dict[int, list[int]] = {node_id: [] for node_id in by_id}
        for node in by_id.values():
            if node.parent is not None:
                if node.parent not in by_id:
                    raise TreeError(f"node {node.id}: its parent is not in this menu")
                children[node.parent].append(node.id)
        tree = cls(
            roots[0],
            by_id,
            {k: tuple(v) for k, v in children.items()},
            fallback_queue,
            texts or Texts(),
        )
        reached = tree._walk()
        if reached != len(by_id):
            raise TreeError("some nodes are not reachable from the root (a cycle)")
        return tree

    def _walk(self) -> int:
        """Count the nodes reachable from the root, refusing trees deeper than MAX_DEPTH."""
        seen, level, depth = 0, [self.root], 0
        while level:
            if depth > MAX_DEPTH:
                raise TreeError(f"deeper than {MAX_DEPTH} levels")
            seen += len(level)
            level = [child for node_id in level for child in self.children[node_id]]
            depth += 1
        return seen

    def choice(self, menu: int, digit: str) -> int | None:
        for child in self.children[menu]:
            if self.nodes[child].digit == digit:
                return child
        return None

    def menu_above(self, node_id: int) -> int | None:
        """The nearest menu strictly above `node_id`."""
        parent = self.nodes[node_id].parent
        while parent is not None and self.nodes[parent].kind != MENU:
            parent = self.nodes[parent].parent
        return parent


# --- what the engine tells the PBX ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Say:
    text: str = ""
    sound: str = ""
    digits: str = ""  # a number to read out digit by digit (an amount, a date)


@dataclass(frozen=True, slots=True)
class Collect:
    max_digits: int
    timeout_s: int
    min_digits: int = 1


@dataclass(frozen=True, slots=True)
class Route:
    queue: str


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


Action = Say | Collect | Route | Hangup


@dataclass(frozen=True, slots=True)
class Checked:
    """A CRM check of digits: valid or not, and the client they identify (if any)."""

    ok: bool
    client_id: int | None = None
    facts: Mapping[str, str] = field(default_factory=dict)  # kept in the values, keys start "_"


@dataclass(frozen=True, slots=True)
class Spoken:
    """A self-service answer: the text, and digits a PBX without TTS can read out."""

    text: str
    digits: str = ""


@dataclass(frozen=True)
class Crm:
    check: Callable[[str, str, int | None], Checked]  # (check kind, digits, client) -> verdict
    answer: Callable[[str, int | None, Mapping[str, str]], Spoken]  # (kind, client, values)


@dataclass(frozen=True)
class State:
    node: int
    tries: int = 0
    path: tuple[int, ...] = ()
    values: Mapping[str, str] = field(default_factory=dict)
    client_id: int | None = None
    queue: str = ""
    done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "tries": self.tries,
            "path": list(self.path),
            "values": dict(self.values),
            "client": self.client_id,
            "queue": self.queue,
            "done": self.done,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> State:
        return cls(
            node=int(data["node"]),
            tries=int(data.get("tries", 0)),
            path=tuple(int(n) for n in data.get("path", ())),
            values={str(k): str(v) for k, v in dict(data.get("values", {})).items()},
            client_id=int(data["client"]) if data.get("client") is not None else None,
            queue=str(data.get("queue", "")),
            done=bool(data.get("done", False)),
        )


@dataclass(frozen=True)
class Step:
    state: State
    actions: tuple[Action, ...]

    @property
    def last(self) -> Action:
        return self.actions[-1]


# --- walking ---------------------------------------------------------------------------------


def start(tree: Tree, crm: Crm, client_id: int | None = None) -> Step:
    """The first step of a call; `client_id` is the client found by the caller's number."""
    out: list[Action] = []
    values = {CALLER_FACT: str(client_id)} if client_id is not None else {}
    first = State(node=tree.root, client_id=client_id, values=values)
    state = _enter(tree, crm, first, tree.root, out)
    return Step(state, tuple(out))


def feed(tree: Tree, crm: Crm, state: State, digits: str | None) -> Step:
    """The caller pressed `digits` (None: the wait timed out) at the node the state waits on."""
    if state.done:
        raise Ended
    if state.node not in tree.nodes:  # the menu changed under a live call
        out: list[Action] = []
        return Step(_fail(tree, state, out), tuple(out))
    node = tree.nodes[state.node]
    out = []
    if digits is None or not digits or any(c not in KEYS for c in digits):
        return Step(_retry(tree, crm, state, node, out), tuple(out))
    if node.kind == MENU:
        next_state = _choose(tree, crm, state, node, digits, out)
    else:
        next_state = _input(tree, crm, state, node, digits, out)
    return Step(next_state, tuple(out))


def _choose(
    tree: Tree, crm: Crm, state: State, node: Node, digits: str, out: list[Action]
) -> State:
    if digits == REPEAT_KEY:
        return _prompt(node, state, out)
    if digits == BACK_KEY:
        return _enter(tree, crm, state, tree.menu_above(node.id) or node.id, out)
    chosen = tree.choice(node.id, digits) if len(digits) == 1 else None
    if chosen is None:
        return _retry(tree, crm, state, node, out)
    return _enter(tree, crm, state, chosen, out)


def _input(tree: Tree, crm: Crm, state: State, node: Node, digits: str, out: list[Action]) -> State:
    if digits == BACK_KEY:
        return _enter(tree, crm, state, tree.menu_above(node.id) or tree.root, out)
    digits = digits.removesuffix("#")  # the usual "end of input" key
    if not digits or any(c not in NUMERALS for c in digits):
        return _retry(tree, crm, state, node, out)
    if not node.min_digits <= len(digits) <= node.max_digits:
        return _retry(tree, crm, state, node, out)
    verdict = crm.check(node.check, digits, state.client_id)
    if not verdict.ok:
        return _retry(tree, crm, state, node, out)
    state = replace(
        state,
        values={**state.values, **verdict.facts, node.key or f"input{node.id}": digits},
        client_id=verdict.client_id if verdict.client_id is not None else state.client_id,
    )
    return _enter(tree, crm, state, _after(tree, node), out)


def _after(tree: Tree, node: Node) -> int:
    """Where an input or answer goes next: its first child, else back to the menu above."""
    kids = tree.children[node.id]
    if kids:
        return kids[0]
    above = tree.menu_above(node.id)
    return above if above is not None else -1  # -1: nowhere to go, hang up


def _enter(tree: Tree, crm: Crm, state: State, node_id: int, out: list[Action]) -> State:
    """Go to `node_id` and follow nodes that do not wait (answers, back) until one that waits
    for digits or ends the call. The tree is finite and every automatic move goes down to a
    child or up to a menu (which waits), so this ends; the bound is a second guard."""
    for _hop in range(2 * (MAX_DEPTH + 2)):
        if node_id not in tree.nodes:
            return _end(state, Hangup(), out, tree.texts.goodbye)
        node = tree.nodes[node_id]
        state = replace(state, node=node_id, tries=0, path=(*state.path, node_id)[-MAX_PATH:])
        if node.kind in WAITING:
            return _prompt(node, state, out)
        if node.kind == ANSWER:
            spoken = crm.answer(node.answer, state.client_id, state.values)
            if node.prompt or node.sound:
                out.append(Say(node.prompt, node.sound))
            out.append(Say(spoken.text, digits=spoken.digits))
            node_id = _after(tree, node)
        elif node.kind == BACK:
            node_id = tree.menu_above(tree.menu_above(node_id) or tree.root) or tree.root
        elif node.kind == ROUTE and node.queue:
            _say(node, out)
            return _end(replace(state, queue=node.queue), Route(node.queue), out)
        else:  # hang up (or a route whose queue is gone)
            _say(node, out)
            return _end(
                state, Hangup(), out, "" if node.prompt or node.sound else tree.texts.goodbye
            )
    return _end(state, Hangup(), out, tree.texts.goodbye)


def _prompt(node: Node, state: State, out: list[Action]) -> State:
    _say(node, out)
    low = 1 if node.kind == MENU else node.min_digits
    high = 1 if node.kind == MENU else node.max_digits
    out.append(Collect(high, node.timeout_s, low))
    return state


def _say(node: Node, out: list[Action]) -> None:
    if node.prompt or node.sound:
        out.append(Say(node.prompt, node.sound))


def _retry(tree: Tree, crm: Crm, state: State, node: Node, out: list[Action]) -> State:
    tries = state.tries + 1
    if tries >= node.retries:
        return _fail(tree, replace(state, tries=tries), out)
    out.append(Say(tree.texts.invalid))
    return _prompt(node, replace(state, tries=tries), out)


def _fail(tree: Tree, state: State, out: list[Action]) -> State:
    """Too many invalid answers: the fallback queue if the menu has one, else goodbye."""
    if tree.fallback_queue:
        out.append(Say(tree.texts.transfer))
        return _end(replace(state, queue=tree.fallback_queue), Route(tree.fallback_queue), out)
    return _end(state, Hangup(), out, tree.texts.goodbye)


def _end(state: State, final: Route | Hangup, out: list[Action], farewell: str = "") -> State:
    if farewell:
        out.append(Say(farewell))
    out.append(final)
    return replace(state, done=True)


def shown(values: Mapping[str, str]) -> dict[str, str]:
    """The values a person reads: without the engine's hidden facts."""
    return {k: v for k, v in values.items() if not k.startswith("_")}


def readable_path(tree: Tree, state: State) -> str:
    """The caller's way through the menu as the call card shows it: "Billing › Deal number"."""
    titles: list[str] = []
    for node_id in state.path:
        node = tree.nodes.get(node_id)
        if node is None or node.parent is None:
            continue
        title = node.title or node.digit or str(node_id)
        if not titles or titles[-1] != title:
            titles.append(title)
    return " › ".join(titles)
