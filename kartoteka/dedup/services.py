"""Writes of the duplicates app: the batch scan filling the queue, "not a duplicate", settings.

Merging and unmerging live in `merge.py`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients.bulk import table, write_rows
from kartoteka.clients.models import Client
from kartoteka.core import audit
from kartoteka.core.permissions import Action, require
from kartoteka.dedup import batch, bound, engine, keys, reader
from kartoteka.dedup.merge import merge
from kartoteka.dedup.models import Candidate, ClientKey, DedupSettings

CANDIDATE_COLS = ("a_id", "b_id", "score", "reasons", "cluster", "status", "found_at")
EXACT_NAMES = {"name", "company_name"}
EXACT_IDS = {"inn", "email", "passport"}


@dataclass
class ScanResult:
    clients: int = 0
    pairs: list[engine.Pair] = field(default_factory=list)
    merged: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds of each step

    def as_dict(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 2),
            "merged": self.merged,
            "phases": {k: round(v, 2) for k, v in self.phases.items()},
            "pairs": [
                {"a": p.a, "b": p.b, "score": p.score, "reasons": list(p.reasons)}
                for p in self.pairs
            ],
        }


def find(phases: dict[str, float] | None = None) -> tuple[int, list[engine.Pair]]:
    """Read every live client and find the likely pairs (nothing is written).

    Columns, not objects: each distinct name, birthday or address is folded once
    (`batch.table_from_raw`), and the cycle collector is paused while a million rows are read.
    `phases` gets the seconds of reading, folding and matching.
    """
    phases = {} if phases is None else phases
    dismissed = list(
        Candidate.objects.filter(status=Candidate.Status.DISMISSED).values_list("a", "b")
    )
    with batch.paused_gc():
        started = time.monotonic()
        raw = reader.live_table()
        phases["read"] = time.monotonic() - started
        table = batch.table_from_raw(raw)
        del raw
        phases["fold"] = time.monotonic() - started - phases["read"]
        pairs = bound.find_pairs(table, skip=dismissed)
        phases["match"] = time.monotonic() - started - phases["read"] - phases["fold"]
        return len(table), pairs


def scan(*, save: bool = True) -> ScanResult:
    """Fill the review queue with what the scan finds; merge exact matches if set to."""
    started = time.monotonic()
    result = ScanResult()
    result.clients, result.pairs = find(result.phases)
    if save:
        stored = time.monotonic()
        _store(result.pairs)
        keys.analyze()  # the nightly scan keeps the single check's statistics fresh
        result.phases["store"] = time.monotonic() - stored
        settings = DedupSettings.current()
        if settings.auto_merge:
            result.merged = _auto_merge(result.pairs, settings.threshold)
    result.seconds = time.monotonic() - started
    return result


def _store(pairs: list[engine.Pair]) -> None:
    """Replace the open pairs by the ones found now; decided pairs keep their decision."""
    roots = engine.clusters(pairs)
    decided = set(Candidate.objects.exclude(status=Candidate.Status.OPEN).values_list("a", "b"))
    stamp = timezone.now()
    rows = [
        (p.a, p.b, p.score, _json(list(p.reasons)), roots[p.a], Candidate.Status.OPEN, stamp)
        for p in pairs
        if (p.a, p.b) not in decided
    ]
    with transaction.atomic():
        Candidate.objects.filter(status=Candidate.Status.OPEN).delete()
        write_rows(table(Candidate), CANDIDATE_COLS, rows)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def is_exact(pair: engine.Pair, threshold: float) -> bool:
    reasons = set(pair.reasons)
    return pair.score >= threshold and bool(reasons & EXACT_NAMES) and bool(reasons & EXACT_IDS)


def _auto_merge(pairs: list[engine.Pair], threshold: float) -> int:
    done, gone = 0, set()
    for pair in pairs:
        if not is_exact(pair, threshold) or pair.a in gone or pair.b in gone:
            continue
        clients = {c.pk: c for c in Client.objects.filter(pk__in=[pair.a, pair.b])}
        if len(clients) != 2:
            continue
        merge(None, clients[pair.a], clients[pair.b], automatic=True)
        gone.add(pair.b)
        done += 1
    return done


def dismiss(actor: User, candidate: Candidate) -> None:
    """ "Not a duplicate": remembered, never proposed again."""
    require(actor, Action.EDIT, candidate.a)
    require(actor, Action.EDIT, candidate.b)
    with transaction.atomic():
        updated = Candidate.objects.filter(pk=candidate.pk, status=Candidate.Status.OPEN).update(
            status=Candidate.Status.DISMISSED, decided_by=actor, decided_at=timezone.now()
        )
        if not updated:
            raise ValidationError({"pair": [_("This pair is already decided.")]})
        audit.record(
            actor, "update", candidate.a, not_duplicate_of=candidate.b_id, pair=candidate.pk
        )


def save_settings(actor: User, auto_merge: bool, threshold: float) -> DedupSettings:
    require(actor, Action.CONFIGURE)
    if not 0.5 <= threshold <= 1.0:
        raise ValidationError({"threshold": [_("Enter a score between 0.5 and 1.")]})
    with transaction.atomic():
        settings = DedupSettings.current()
        before = {"auto_merge": settings.auto_merge, "threshold": settings.threshold}
        settings.auto_merge, settings.threshold = auto_merge, threshold
        settings.save()
        audit.record(
            actor,
            "configure",
            kind="dedup_settings",
            target_id=1,
            before=before,
            after={"auto_merge": auto_merge, "threshold": threshold},
        )
    return settings


def reindex(chunk: int = 50_000) -> int:
    """Rebuild the key table from the clients (after a restore or an old bulk load)."""
    done = 0
    with transaction.atomic():
        ClientKey.objects.all().delete()
        last = 0
        while True:
            rows = list(
                Client.all_objects.filter(pk__gt=last)
                .order_by("pk")
                .values_list("id", "kind", "last_name", "first_name", "company_name", "legal_form")[
                    :chunk
                ]
            )
            if not rows:
                keys.analyze()
                return done
            keys.write_for_client_rows(
                ("id", "kind", "last_name", "first_name", "company_name", "legal_form"), rows
            )
            done += len(rows)
            last = rows[-1][0]


def pair_filter(x: int, y: int) -> Q:
    return Q(a_id=min(x, y), b_id=max(x, y))
