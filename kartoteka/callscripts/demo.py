"""Demo call scripts, one for each demo queue: sales (is it a good time, what is needed, an
offer, a result) and support (which question, then what to check). Built through `services`
as the editor would: the steps first, then the ways between them, then put in use. Added once:
a script of the same name (even in the trash) is left alone. The texts are data, in the demo's
language; the results are picked by their place in the list, so any installation language fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kartoteka.accounts.models import User
from kartoteka.callcenter.models import Disposition, Queue
from kartoteka.callscripts import services
from kartoteka.callscripts.models import Script, Step
from kartoteka.callscripts.services import OptionData, ScriptData, StepData

# Places of the default call results (callcenter.defaults.RESULTS).
ANSWERED, ORDERED, COMPLAINT, CALL_BACK, _WRONG, NOT_INTERESTED = range(6)


@dataclass(frozen=True)
class Spec:
    kind: str
    text: str
    next: str = ""  # text, number, and the "yes" of a yes/no question
    no: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)  # (label, step key)
    result: int | None = None  # a final step's suggested result, by its place


SALES = {
    "greet": Spec(
        Step.Kind.YESNO,
        "Здравствуйте, {first_name}! Меня зовут {operator}, отдел продаж. Вам удобно говорить?",
        next="need",
        no="later",
    ),
    "need": Spec(
        Step.Kind.CHOICE,
        "{first_name}, что вас интересует?",
        options=[
            ("Новый заказ", "offer"),
            ("Повторный заказ", "offer"),
            ("Цены и условия доставки", "terms"),
            ("Пока просто смотрю", "bye"),
        ],
    ),
    "offer": Spec(
        Step.Kind.YESNO,
        "При оплате до конца недели доставка бесплатна, а на повторный заказ — скидка 5%. "
        "Оформляем заказ сегодня?",
        next="ordered",
        no="terms",
    ),
    "terms": Spec(
        Step.Kind.TEXT,
        "Расскажите о ценах и сроках доставки, предложите выслать прайс на почту. "
        "Что ответил клиент?",
        next="later",
    ),
    "ordered": Spec(
        Step.Kind.FINAL,
        "Спасибо за заказ, {first_name}! Счёт придёт на почту сегодня.",
        result=ORDERED,
    ),
    "later": Spec(
        Step.Kind.FINAL,
        "Договоритесь, когда удобно перезвонить, и поставьте задачу.",
        result=CALL_BACK,
    ),
    "bye": Spec(
        Step.Kind.FINAL,
        "Поблагодарите за звонок и пригласите обращаться.",
        result=NOT_INTERESTED,
    ),
}
SUPPORT = {
    "greet": Spec(
        Step.Kind.CHOICE,
        "Здравствуйте, {first_name}! Служба поддержки, меня зовут {operator}. "
        "С каким вопросом обращаетесь?",
        options=[
            ("Статус заказа", "deal"),
            ("Счёт и оплата", "invoice"),
            ("Жалоба", "complaint"),
        ],
    ),
    "deal": Spec(
        Step.Kind.NUMBER,
        "Попросите номер сделки и проверьте её этап в карточке клиента.",
        next="solved",
    ),
    "invoice": Spec(
        Step.Kind.TEXT, "Уточните номер счёта и дату оплаты. Что выяснили?", next="solved"
    ),
    "complaint": Spec(
        Step.Kind.TEXT,
        "Выслушайте, извинитесь за неудобство и запишите суть жалобы.",
        next="escalated",
    ),
    "solved": Spec(
        Step.Kind.FINAL, "Вопрос решён? Поблагодарите клиента и попрощайтесь.", result=ANSWERED
    ),
    "escalated": Spec(
        Step.Kind.FINAL,
        "Скажите, что жалоба передана руководителю и ответ придёт в течение рабочего дня.",
        result=COMPLAINT,
    ),
}
SCRIPTS = [
    ("Продажи: входящий звонок", "sales", SALES),
    ("Поддержка: входящий звонок", "support", SUPPORT),
]


def load(actor: User) -> dict[str, int]:
    """Add the missing demo scripts; how many scripts and steps were added."""
    results = {d.position: d for d in Disposition.objects.filter(is_active=True)}
    queues = {q.name: q for q in Queue.objects.filter(name__in=["sales", "support"])}
    added = {"scripts": 0, "steps": 0}
    for name, queue, specs in SCRIPTS:
        if queue not in queues or Script.all_objects.filter(name=name).exists():
            continue
        data = ScriptData(name=name, direction=Script.Direction.INBOUND, queues=[queues[queue]])
        script = services.create_script(actor, data)
        _steps(actor, script, specs, results)
        script.refresh_from_db()
        data.is_active = True
        services.update_script(actor, script, script.version, data)
        added["scripts"] += 1
        added["steps"] += len(specs)
    return added


def _steps(
    actor: User, script: Script, specs: dict[str, Spec], results: dict[int, Disposition]
) -> None:
    """Every step first (the ways need their ids), then each step's ways and result."""
    ids: dict[str, Step] = {}
    for key, spec in specs.items():
        ids[key] = services.save_step(
            actor, script, None, None, StepData(text=spec.text, kind=spec.kind)
        )
    for key, spec in specs.items():
        result = results.get(spec.result) if spec.result is not None else None
        data = StepData(
            text=spec.text,
            kind=spec.kind,
            next_step_id=ids[spec.next].pk if spec.next else None,
            no_step_id=ids[spec.no].pk if spec.no else None,
            disposition=result,
            options=[OptionData(label, ids[to].pk) for label, to in spec.options],
        )
        services.save_step(actor, script, None, ids[key], data)
