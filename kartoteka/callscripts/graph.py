"""Checks of a script's graph, pure (no I/O): what is broken, what is merely odd.

Cycles are allowed on purpose ("anything else?" back to the menu); a run caps its answers
instead. Errors keep a script from going into use; warnings are shown in the editor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from kartoteka.callscripts.models import Step
from kartoteka.callscripts.placeholders import unknown


@dataclass
class Node:
    id: int
    number: int  # shown to people: "step 3"
    kind: str
    next_step: int | None
    no_step: int | None
    options: list[tuple[str, int | None]] = field(default_factory=list)  # (label, next id)
    text: str = ""

    def exits(self) -> list[int | None]:
        if self.kind == Step.Kind.CHOICE:
            return [target for _label, target in self.options]
        if self.kind == Step.Kind.YESNO:
            return [self.next_step, self.no_step]
        if self.kind == Step.Kind.FINAL:
            return []
        return [self.next_step]


@dataclass
class Problems:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check(nodes: list[Node]) -> Problems:
    found = Problems()
    if not nodes:
        found.errors.append(_("The script has no steps."))
        return found
    by_id = {node.id: node for node in nodes}
    if not any(node.kind == Step.Kind.FINAL for node in nodes):
        found.errors.append(_("The script has no final step."))
    for node in nodes:
        where = _("Step %(n)d") % {"n": node.number}
        if node.kind == Step.Kind.CHOICE and not node.options:
            found.errors.append(_("%(where)s: add at least one option.") % {"where": where})
        for label, target in _labelled_exits(node):
            if target is None:
                found.errors.append(
                    _("%(where)s: “%(label)s” leads nowhere; pick the next step.")
                    % {"where": where, "label": label}
                )
            elif target not in by_id:
                found.errors.append(
                    _("%(where)s: “%(label)s” leads to a deleted step.")
                    % {"where": where, "label": label}
                )
        for name in unknown(node.text):
            found.warnings.append(
                _("%(where)s: {%(name)s} is not a placeholder; it is shown as typed.")
                % {"where": where, "name": name}
            )
    seen = reachable(nodes)
    for node in nodes:
        if node.id not in seen:
            found.warnings.append(
                _("Step %(n)d cannot be reached from step 1.") % {"n": node.number}
            )
    return found


def _labelled_exits(node: Node) -> Iterable[tuple[str, int | None]]:
    if node.kind == Step.Kind.CHOICE:
        return node.options
    if node.kind == Step.Kind.YESNO:
        return [(_("yes"), node.next_step), (_("no"), node.no_step)]
    if node.kind == Step.Kind.FINAL:
        return []
    return [(_("next"), node.next_step)]


def reachable(nodes: list[Node]) -> set[int]:
    by_id = {node.id: node for node in nodes}
    seen: set[int] = set()
    todo = [nodes[0].id] if nodes else []
    while todo:
        current = todo.pop()
        if current in seen or current not in by_id:
            continue
        seen.add(current)
        todo.extend(t for t in by_id[current].exits() if t is not None)
    return seen
