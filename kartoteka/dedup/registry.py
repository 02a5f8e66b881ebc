"""What a merge moves from the loser to the survivor: (model, foreign key to the client).

This list is the one way to make a merge (and its unmerge) carry a model's rows: an app whose
rows belong to a client adds one line at the end of this file, e.g. the planner's join table
of tasks and clients:

    register("planner.TaskLink", "client", unique_with=("task",))

The contact centre's calls join the same way (`register("<app>.Call", "client")`, added by
that app). tests/dedup/test_merge.py checks that every registered field is a foreign key to
a client and that the rows move and come back.

`unique_with` names the fields that, with the foreign key, must stay unique (a constraint, or
a rule such as one phone number per client): when the survivor already has such a row, the
loser's copy is removed instead of moved, kept whole in the merge's snapshot, and put back
by unmerge.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db.models import Model


@dataclass(frozen=True)
class Link:
    model: str  # "app_label.ModelName"; an automatic many-to-many table is "sales.Deal_contacts"
    field: str
    unique_with: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.model}.{self.field}"

    def model_class(self) -> type[Model]:
        return apps.get_model(self.model)


LINKS: list[Link] = []


def register(model: str, field: str, unique_with: tuple[str, ...] = ()) -> Link:
    link = Link(model, field, tuple(unique_with))
    if link not in LINKS:
        LINKS.append(link)
    return link


register("clients.Phone", "client", unique_with=("e164",))
register("clients.Email", "client", unique_with=("email",))
register("clients.Client_tags", "client", unique_with=("tag",))
register("clients.Consent", "client")
register("clients.ClientEvent", "client")
register("clients.Employment", "person", unique_with=("company", "role"))
register("clients.Employment", "company", unique_with=("person", "role"))
register("activities.Interaction", "client")
register("sales.Deal", "client")
register("sales.Deal_contacts", "client", unique_with=("deal",))
register("transfer.ImportChange", "client")
register("planner.TaskLink", "client", unique_with=("task",))
register("callcenter.Call", "client")
