"""Demo voice menu answering the demo calls' number: 1 sales, 2 support (a deal's status by its
number, or a specialist), 0 an operator. Built through `services` as the editor would; added
once (skipped when a menu of this name, or any active menu on the number, exists). The prompts
are data, in the demo's language, like the demo clients' names.
"""

from __future__ import annotations

from typing import Any

from kartoteka.accounts.models import User
from kartoteka.callcenter.models import Queue
from kartoteka.ivr import services
from kartoteka.ivr.models import Menu, Node

NAME = "Основной номер"
NUMBER = "+74950000000"  # the number the demo calls were made to (callcenter.demo)
ROOT_PROMPT = (
    "Здравствуйте! Вы позвонили в контакт-центр. Отдел продаж — нажмите 1. "
    "Поддержка и статус заказа — нажмите 2. Чтобы поговорить с оператором, нажмите 0."
)
# (key, parent key, digit, kind, title, prompt, other fields); "queue" names a demo queue.
NODES: list[tuple[str, str, str, str, str, str, dict[str, Any]]] = [
    ("sales", "root", "1", Node.Kind.ROUTE, "Отдел продаж", "Соединяю с отделом продаж.",
     {"queue": "sales"}),
    ("support", "root", "2", Node.Kind.MENU, "Поддержка",
     "Чтобы узнать статус сделки по её номеру, нажмите 1. Чтобы поговорить со специалистом "
     "поддержки, нажмите 0. Вернуться — звёздочка.", {}),
    ("deal", "support", "1", Node.Kind.INPUT, "Номер сделки",
     "Введите номер сделки и нажмите решётку.",
     {"validation": Node.Check.DEAL, "key": "deal", "max_digits": 10, "timeout_s": 10}),
    ("stage", "deal", "", Node.Kind.ANSWER, "Статус сделки", "Ваша сделка найдена.",
     {"answer": Node.Answer.DEAL_STAGE}),
    ("specialist", "support", "0", Node.Kind.ROUTE, "Специалист поддержки",
     "Соединяю со специалистом поддержки.", {"queue": "support"}),
    ("operator", "root", "0", Node.Kind.ROUTE, "Оператор", "Соединяю с оператором.",
     {"queue": "support"}),
]  # fmt: skip


def load(actor: User) -> dict[str, int]:
    """Add the demo menu; how many menus and nodes were added."""
    queues = {q.name: q for q in Queue.objects.filter(name__in=["sales", "support"])}
    taken = (
        Menu.objects.filter(name=NAME).exists()
        or Menu.objects.filter(number=services.normalize_number(NUMBER), is_active=True).exists()
    )
    if taken or len(queues) < 2:
        return {"menus": 0, "nodes": 0}
    menu = services.save_menu(
        actor,
        None,
        {"name": NAME, "number": NUMBER, "is_active": True, "fallback_queue": queues["support"]},
    )
    root = Node.objects.get(menu=menu, parent=None)  # save_menu makes it
    fields: dict[str, Any] = {"title": "Главное меню", "prompt": ROOT_PROMPT}
    nodes = {"root": services.save_node(actor, menu, root, fields, menu.version)}
    for key, parent, digit, kind, title, prompt, extra in NODES:
        fields = {"parent": nodes[parent], "digit": digit, "kind": kind, "title": title}
        fields |= {"prompt": prompt, **extra}
        if "queue" in extra:
            fields["queue"] = queues[extra["queue"]]
        nodes[key] = services.save_node(actor, menu, None, fields, menu.version)
    return {"menus": 1, "nodes": len(nodes)}
