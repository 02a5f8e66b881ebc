"""Demo quality scorecard: five weighted criteria of an inbound call, one of them critical.

Built through `services`; added once (a scorecard of this name, even in the trash, is left
alone). No evaluations: only calls with a recording can be evaluated and the demo calls have
none (no audio is made up). The texts are data, in the demo's language.
"""

from __future__ import annotations

from kartoteka.accounts.models import User
from kartoteka.quality import services
from kartoteka.quality.models import Criterion, Scorecard
from kartoteka.quality.services import CriterionIn

NAME = "Входящий звонок"
CRITERIA = [
    CriterionIn("Поприветствовал клиента по имени и представился", 10),
    CriterionIn("Выяснил потребность уточняющими вопросами", 25, Criterion.Kind.SCALE, 5),
    CriterionIn("Предложил решение или товар под потребность", 25, Criterion.Kind.SCALE, 5),
    CriterionIn("Был вежлив, не перебивал клиента", 20, critical=True),
    CriterionIn("Подвёл итог и выбрал результат звонка", 20),
]


def load(actor: User) -> dict[str, int]:
    """Add the demo scorecard; how many scorecards and criteria were added."""
    if Scorecard.all_objects.filter(name=NAME).exists():
        return {"scorecards": 0, "criteria": 0}
    services.save_scorecard(actor, None, name=NAME, is_active=True, criteria=CRITERIA)
    return {"scorecards": 1, "criteria": len(CRITERIA)}
