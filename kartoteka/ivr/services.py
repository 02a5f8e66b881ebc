"""Every write to voice menus: the editor's pages and the API call these.

A node's change is checked against the whole tree (a duplicate digit under one parent, a route
without a queue, an input without validation, a tree too deep, a node under its own child) and
refused with the field named. Each change bumps the menu's version, and a change that names an
older version is refused: two supervisors editing one tree never mix their edits silently.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.callcenter import access, lookup
from kartoteka.core import audit
from kartoteka.core.errors import check_version
from kartoteka.ivr import engine
from kartoteka.ivr.models import Menu, Node

MENU_FIELDS = ("name", "number", "is_active", "fallback_queue")
NODE_FIELDS = (
    "parent",
    "digit",
    "kind",
    "title",
    "prompt",
    "sound",
    "key",
    "validation",
    "answer",
    "queue",
    "min_digits",
    "max_digits",
    "retries",
    "timeout_s",
)
LEAVES = (Node.Kind.ROUTE, Node.Kind.HANGUP, Node.Kind.BACK)


def normalize_number(raw: str) -> str:
    """A dialled number as menus store it: E.164 when it is a phone number, else its digits
    (a short internal number such as 100)."""
    text = (raw or "").strip()
    return lookup.e164(text) or "".join(c for c in text if c.isascii() and c.isdigit())[:40]


# --- menus -----------------------------------------------------------------------------------


def _locked(menu: Menu, expected_version: int | None) -> Menu:
    row = Menu.objects.select_for_update().get(pk=menu.pk)
    check_version(row, expected_version)
    return row


def _bump(menu: Menu) -> None:
    Menu.objects.filter(pk=menu.pk).update(version=F("version") + 1)
    menu.version += 1


def save_menu(
    actor: User, menu: Menu | None, fields: dict[str, Any], expected_version: int | None = None
) -> Menu:
    """Create a menu (with its root menu node) or change one."""
    access.require_runs_centre(actor)
    unknown = {name: [_("This field cannot be set.")] for name in fields if name not in MENU_FIELDS}
    if unknown:
        raise ValidationError(unknown)
    with transaction.atomic():
        row = _locked(menu, expected_version) if menu is not None else Menu()
        for name, value in fields.items():
            setattr(row, name, value)
        raw_number = str(fields.get("number", row.number) or "")
        row.number = normalize_number(raw_number)
        errors: dict[str, list[str]] = {}
        if raw_number.strip() and not row.number:
            errors["number"] = [_("Enter a phone number or a short number of digits.")]
        try:
            row.full_clean(exclude=["version"], validate_constraints=False)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        clash = Menu.objects.filter(number=row.number, is_active=True).exclude(pk=row.pk)
        if row.number and row.is_active and clash.exists():
            errors["number"] = [_("Another active menu answers this number.")]
        if errors:
            raise ValidationError(errors)
        created = row.pk is None
        row.version = row.version + 1 if not created else 1
        row.save()
        if created:
            Node.objects.create(
                menu=row, kind=Node.Kind.MENU, title=_("Main menu"), retries=3, timeout_s=5
            )
        audit.record(actor, "configure", row, created=created)
    return row


def delete_menu(actor: User, menu: Menu, expected_version: int | None = None) -> None:
    """Menus are settings, not client data: gone for good, the audit keeps what they were."""
    access.require_runs_centre(actor)
    with transaction.atomic():
        row = _locked(menu, expected_version)
        snapshot = list(Node.objects.filter(menu=row).values(*NODE_FIELDS, "id"))
        audit.record(actor, "configure", row, deleted=row.name, nodes=snapshot)
        row.delete()


# --- nodes -----------------------------------------------------------------------------------


def _depth(node_id: int | None, parents: dict[int, int | None]) -> int:
    depth = 0
    while node_id is not None and depth <= engine.MAX_DEPTH + 2:
        node_id = parents.get(node_id)
        depth += 1
    return depth


def _height(node_id: int, kids: dict[int | None, list[int]]) -> int:
    below = kids.get(node_id, [])
    return 1 + max((_height(k, kids) for k in below), default=0) if below else 0


def _tree_errors(row: Node, has_children: bool) -> dict[str, list[str]]:
    """What the node's place in the tree forbids."""
    errors: dict[str, list[str]] = {}
    family = list(Node.objects.filter(menu_id=row.menu_id).values_list("pk", "parent_id"))
    parents: dict[int, int | None] = dict(family)
    kids: dict[int | None, list[int]] = {}
    for pk, above in family:
        kids.setdefault(above, []).append(pk)
    parent = row.parent
    if row.pk is not None and parents.get(row.pk, 0) is None:  # the root stays the root
        if parent is not None:
            errors["parent"] = [_("The main menu cannot be moved.")]
        if row.kind != Node.Kind.MENU:
            errors["kind"] = [_("The main menu must be a menu.")]
        return errors
    if parent is None:
        return {"parent": [_("Choose where the node goes.")]}
    if parent.menu_id != row.menu_id:
        return {"parent": [_("There is no such node in this menu.")]}
    walk: int | None = parent.pk
    while walk is not None:
        if walk == row.pk:
            return {"parent": [_("A node cannot go below itself or its own nodes.")]}
        walk = parents.get(walk)
    if parent.kind in LEAVES:
        errors["parent"] = [_("Nothing can go below a route, a hang-up or a back node.")]
    height = _height(row.pk, kids) if row.pk is not None else 0
    if _depth(parent.pk, parents) + height > engine.MAX_DEPTH:
        errors["parent"] = [
            _("Too deep: at most %(n)d levels below the main menu.") % {"n": engine.MAX_DEPTH}
        ]
    if parent.kind == Node.Kind.MENU:
        if not row.digit:
            errors["digit"] = [_("Choose the digit that selects it in the menu.")]
        elif parent.children.filter(digit=row.digit).exclude(pk=row.pk).exists():
            errors["digit"] = [
                _("Another choice of this menu already uses %(digit)s.") % {"digit": row.digit}
            ]
    if has_children and row.kind in LEAVES:
        errors["kind"] = [_("This node has nodes below it; a route, hang-up or back node cannot.")]
    return errors


def _kind_errors(row: Node) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if row.kind == Node.Kind.ROUTE and row.queue_id is None:
        errors["queue"] = [_("Choose the queue to route to.")]
    if row.kind == Node.Kind.INPUT:
        if not row.validation:
            errors["validation"] = [_("Choose how the digits are checked.")]
        if row.min_digits > row.max_digits:
            errors["max_digits"] = [_("At most must not be less than at least.")]
    if row.kind == Node.Kind.ANSWER and not row.answer:
        errors["answer"] = [_("Choose the answer to read.")]
    return errors


def _normalized(row: Node) -> None:
    """Clear what the kind does not use, so the tree says only what it does."""
    if row.kind != Node.Kind.INPUT:
        row.validation, row.key, row.min_digits, row.max_digits = "", "", 1, 1
    elif not row.key:
        row.key = row.validation
    if row.kind != Node.Kind.ANSWER:
        row.answer = ""
    if row.kind != Node.Kind.ROUTE:
        row.queue = None
    if row.parent is None or row.parent.kind != Node.Kind.MENU:
        row.digit = ""  # only a menu's choices are selected by a digit


def save_node(
    actor: User,
    menu: Menu,
    node: Node | None,
    fields: dict[str, Any],
    expected_version: int | None,
) -> Node:
    """Add a node (`node` None) under `fields["parent"]`, or change one; all or nothing."""
    access.require_runs_centre(actor)
    unknown = {name: [_("This field cannot be set.")] for name in fields if name not in NODE_FIELDS}
    if unknown:
        raise ValidationError(unknown)
    with transaction.atomic():
        locked = _locked(menu, expected_version)
        row = Node(menu=locked) if node is None else Node.objects.get(pk=node.pk, menu=locked)
        old_parent = row.parent_id
        for name, value in fields.items():
            setattr(row, name, value)
        if row.parent is not None and row.parent.menu_id != locked.pk:
            raise ValidationError({"parent": [_("There is no such node in this menu.")]})
        _normalized(row)
        errors: dict[str, list[str]] = {}
        try:
            row.full_clean(exclude=["menu", "parent", "position"], validate_constraints=False)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        has_children = row.pk is not None and Node.objects.filter(parent_id=row.pk).exists()
        errors = {**_kind_errors(row), **_tree_errors(row, has_children), **errors}
        if errors:
            raise ValidationError(errors)
        if row.pk is None or row.parent_id != old_parent:
            last = Node.objects.filter(parent=row.parent).aggregate(m=Max("position"))["m"]
            row.position = 0 if last is None else last + 1
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            raise ValidationError(
                {
                    "digit": [
                        _("Another choice of this menu already uses %(digit)s.")
                        % {"digit": row.digit}
                    ]
                }
            ) from None
        _bump(locked)
        audit.record(actor, "configure", locked, node=row.pk, title=row.title)
    menu.version = locked.version
    return row


def move_node(actor: User, node: Node, offset: int, expected_version: int | None) -> None:
    """Up (-1) or down (+1) among its siblings: the order choices are listed and heard."""
    access.require_runs_centre(actor)
    with transaction.atomic():
        menu = _locked(node.menu, expected_version)
        siblings = list(
            Node.objects.filter(menu=menu, parent_id=node.parent_id).order_by("position", "id")
        )
        index = next((i for i, s in enumerate(siblings) if s.pk == node.pk), None)
        if index is None or not 0 <= index + offset < len(siblings):
            return
        siblings.insert(index + offset, siblings.pop(index))
        for position, sibling in enumerate(siblings):
            if sibling.position != position:
                Node.objects.filter(pk=sibling.pk).update(position=position)
        _bump(menu)
    node.menu.version = menu.version


def delete_node(actor: User, node: Node, expected_version: int | None, with_children: bool) -> int:
    """Delete a node (and, when confirmed, the nodes below it); how many went."""
    access.require_runs_centre(actor)
    with transaction.atomic():
        menu = _locked(node.menu, expected_version)
        if node.parent_id is None:
            raise ValidationError({"__all__": [_("The main menu cannot be deleted.")]})
        ids, level = [node.pk], [node.pk]
        while level:
            level = list(Node.objects.filter(parent_id__in=level).values_list("pk", flat=True))
            ids += level
        if len(ids) > 1 and not with_children:
            raise ValidationError(
                {
                    "__all__": [
                        _("This node has %(n)d nodes below it: confirm to delete them too.")
                        % {"n": len(ids) - 1}
                    ]
                }
            )
        snapshot = list(Node.objects.filter(pk__in=ids).values(*NODE_FIELDS, "id"))
        Node.objects.filter(pk__in=ids).delete()
        _bump(menu)
        audit.record(actor, "configure", menu, deleted_nodes=snapshot)
    node.menu.version = menu.version
    return len(ids)
