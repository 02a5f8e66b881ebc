"""Demo ACD settings: four skills, the demo operators' levels and both demo queues' routing.

Written through `acd_services` as a supervisor would; only what is missing is added (a skill by
its name, an empty matrix cell, a queue without routing), so a second run changes nothing and
settings someone already made stay as they are. Names are data, in the demo's language.
"""

from __future__ import annotations

from kartoteka.accounts.models import User
from kartoteka.callcenter import acd_services
from kartoteka.callcenter.acd_models import OperatorSkill, QueueRouting, Skill
from kartoteka.callcenter.acd_services import CellIn, OverflowIn, QueueConfigIn
from kartoteka.callcenter.models import Operator, Queue
from kartoteka.clients.models import Tag

RU, EN, BILLING, SALES = "Русский язык", "Английский язык", "Биллинг", "Продажи"
VIP_TAG = "VIP"  # one of the demo clients' tags
# Levels 1–10 by the demo operators' logins (callcenter.demo.OPERATORS).
LEVELS = {
    "operator01": {RU: 9, EN: 6, SALES: 8},
    "operator02": {RU: 8, SALES: 7, BILLING: 4},
    "operator03": {RU: 10, BILLING: 8},
    "operator04": {RU: 7, EN: 8, BILLING: 6, SALES: 5},
    "operator05": {RU: 9, SALES: 9},
    "operator06": {RU: 8, BILLING: 7, EN: 4},
}


# Per queue: strategy, sticky wait s, escalate after s, {skill: minimum level}, the wait after
# which the levels drop by 2, the wait after which the other queue's operators may take it.
ROUTING = {
    "sales": ("skill_level", 20, 300, {RU: 5, SALES: 6}, 60, 180, "support"),
    "support": ("longest_idle", 0, 420, {RU: 5, BILLING: 5}, 90, 240, "sales"),
}


def _routing(
    skills: dict[str, Skill], queue: str, queues: dict[str, Queue], vip: int | None
) -> QueueConfigIn:
    """Sales picks the best seller, support the longest idle; each first lowers its levels,
    then borrows the other queue's operators; VIP clients and class A go first."""
    strategy, sticky, escalate, needs, drop_after, borrow_after, other = ROUTING[queue]
    return QueueConfigIn(
        strategy=strategy,
        sticky_wait_s=sticky,
        escalate_after_s=escalate,
        use_abc=True,
        vip_tag_id=vip,
        required={skills[name].pk: level for name, level in needs.items()},
        overflow=(
            OverflowIn(drop_after, level_drop=2),
            OverflowIn(borrow_after, target_id=queues[other].pk),
        ),
    )


def load(actor: User) -> dict[str, int]:
    """Add the missing demo skills, levels and queue routing; how many of each were added."""
    have = {s.name: s for s in Skill.objects.filter(name__in=[RU, EN, BILLING, SALES])}
    added = {"skills": 0, "levels": 0, "routed_queues": 0}
    for name in (RU, EN, BILLING, SALES):
        if name not in have and not Skill.objects.filter(name__iexact=name).exists():
            have[name] = acd_services.save_skill(actor, name)
            added["skills"] += 1
    operators = {
        op.user.username: op
        for op in Operator.objects.select_related("user").filter(user__username__in=LEVELS)
    }
    filled = set(OperatorSkill.objects.values_list("operator_id", "skill_id"))
    cells = [
        CellIn(operators[login].pk, have[name].pk, level, 0)
        for login, levels in LEVELS.items()
        if login in operators
        for name, level in levels.items()
        if name in have and (operators[login].pk, have[name].pk) not in filled
    ]
    if cells:
        acd_services.set_cells(actor, cells)
        added["levels"] = len(cells)
    queues = {q.name: q for q in Queue.objects.filter(name__in=["sales", "support"])}
    if len(queues) < 2 or len(have) < 4:
        return added
    vip = Tag.objects.filter(name=VIP_TAG).values_list("pk", flat=True).first()
    routed = set(QueueRouting.objects.values_list("queue_id", flat=True))
    for name in ROUTING:
        if queues[name].pk not in routed:
            config = _routing(have, name, queues, vip)
            acd_services.save_queue_config(actor, queues[name], config, expected_version=0)
            added["routed_queues"] += 1
    return added
