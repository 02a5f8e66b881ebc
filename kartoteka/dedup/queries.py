"""Reads of the duplicates app, always scoped: the queue, a pair, the single-record check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet

from kartoteka.clients.models import Client, Email, Phone
from kartoteka.core.permissions import Action, AnyUser, scope
from kartoteka.dedup import engine, keys, reader
from kartoteka.dedup.models import Candidate, ClientKey, Merge

CANDIDATES_PER_KEY = engine.CAP


def visible_pairs(user: AnyUser, status: str = Candidate.Status.OPEN) -> QuerySet[Candidate]:
    """Pairs whose both clients the user may see (and are live)."""
    seen = scope(user, Action.VIEW, Client.objects.all()).values("pk")
    return (
        Candidate.objects.filter(status=status, a__in=seen, b__in=seen)
        .select_related("a", "b")
        .order_by("-score", "id")
    )


def visible_merges(user: AnyUser) -> QuerySet[Merge]:
    everyone = scope(user, Action.VIEW, Client.all_objects.all()).values("pk")
    return (
        Merge.objects.filter(survivor__in=everyone, loser__in=everyone)
        .select_related("survivor", "loser", "actor")
        .order_by("-at", "-id")
    )


@dataclass(frozen=True)
class Likely:
    client: Client
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class CheckResult:
    visible: list[Likely]
    hidden: int  # likely duplicates the user may not see

    @property
    def ids(self) -> list[int]:
        return [x.client.pk for x in self.visible]


def candidate_ids(prepared: engine.Prepared, exclude: int | None = None) -> set[int]:
    """Live clients sharing a key with `prepared`: a few indexed lookups, no scan.

    Each lookup stops at CANDIDATES_PER_KEY rows, unsorted (no sort of a common name's
    thousands of rows): a phone or e-mail shared by more clients than the batch scan's block
    cap is an office's or a family's, and the scan does not pair on it either.
    """
    live = {"client__deleted_at__isnull": True}
    lookups: list[QuerySet[Any]] = []
    if prepared.phones:
        lookups.append(Phone.objects.filter(e164__in=prepared.phones, **live))
    if prepared.emails:
        lookups.append(Email.objects.filter(email__in=prepared.emails, **live))
    if prepared.inn:
        lookups.append(Client.objects.filter(inn=prepared.inn).annotate(client_id=F("pk")))
    hashes = keys.hashes(prepared)
    if hashes:
        lookups.append(ClientKey.objects.filter(key__in=hashes, **live))
    found: set[int] = set()
    for query in lookups:
        limit = CANDIDATES_PER_KEY * (2 if query.model is ClientKey else 1)  # two name keys
        found.update(query.order_by().values_list("client_id", flat=True)[:limit])
    found.discard(exclude or 0)
    if exclude and found:
        found -= not_duplicates_of(exclude)
    return found


def not_duplicates_of(pk: int) -> set[int]:
    """Clients someone decided are not a duplicate of `pk`: never proposed again."""
    dismissed = Candidate.objects.filter(status=Candidate.Status.DISMISSED)
    pairs = dismissed.filter(Q(a_id=pk) | Q(b_id=pk)).values_list("a_id", "b_id")
    return {b if a == pk else a for a, b in pairs}


def check(
    user: AnyUser, draft: engine.Record, exclude: int | None = None, limit: int = 5
) -> CheckResult:
    """Likely duplicates of a client being typed in or saved (`exclude`: its own id)."""
    prepared = engine.prepare(draft)
    ids = candidate_ids(prepared, exclude)
    if not ids:
        return CheckResult([], 0)
    candidates = [engine.prepare(r) for r in reader.records_for(ids)]
    matches = engine.best_matches(prepared, candidates, limit=50)
    if not matches:
        return CheckResult([], 0)
    wanted = [pk for pk, _m in matches]
    visible = {c.pk: c for c in scope(user, Action.VIEW, Client.objects.filter(pk__in=wanted))}
    shown = [Likely(visible[pk], m.score, m.reasons) for pk, m in matches if pk in visible][:limit]
    return CheckResult(shown, len([pk for pk in wanted if pk not in visible]))


def record_from(
    kind: str, fields: dict[str, object], phones: Sequence[str], emails: Sequence[str]
) -> engine.Record:
    def text(name: str) -> str:
        value = fields.get(name)
        return "" if value is None else str(value)

    return engine.Record(
        id=0,
        kind=kind,
        last_name=text("last_name"),
        first_name=text("first_name"),
        middle_name=text("middle_name"),
        company_name=text("company_name"),
        legal_form=text("legal_form"),
        inn=text("inn"),
        kpp=text("kpp"),
        birthday=text("birthday"),
        address=text("address"),
        passport=text("passport"),
        phones=list(phones),
        emails=list(emails),
    )


def check_written(
    user: AnyUser,
    kind: str,
    fields: dict[str, object],
    phones: Sequence[str],
    emails: Sequence[str],
    exclude: int | None = None,
) -> CheckResult:
    """The check of a record as a form or an API body gives it (contacts as typed)."""
    from kartoteka.dedup.contacts import draft_contacts

    clean_phones, clean_emails = draft_contacts(phones, emails)
    return check(user, record_from(kind, fields, clean_phones, clean_emails), exclude)
