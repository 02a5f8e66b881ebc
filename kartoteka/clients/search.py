"""The search box: names in any word order and case, phones in any format, e-mails, INN, ids.

Every client row keeps `search_text`: its names, ids, e-mails and phone digits, case-folded.
PostgreSQL finds substrings through a pg_trgm GIN index on it; SQLite through an FTS5 table
with the trigram tokenizer (both built by the migrations). Matches are gathered unsorted up
to a cap, then ranked: prefix matches first, then by name. Sorting a million rows by name
before the cap would walk the whole b-tree (see DESIGN.md).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from kartoteka.clients.models import Client
from kartoteka.clients.validators import phone_search_digits
from kartoteka.core.lookups import like_escape

MAX_RESULTS = 200
MAX_TOKENS = 6
FTS_TABLE = "clients_client_fts"


def tokens(query: str) -> list[str]:
    """What to look for: a phone's digits, or the case-folded words of the query."""
    query = query.strip()[:200]
    digits = phone_search_digits(query)
    if digits:
        return [digits]
    words = re.split(r"[\s,;\"«»()]+", fold(query))
    return [w for w in words if w][:MAX_TOKENS]


def fold(text: str) -> str:
    return text.lower().replace("ё", "е")


def is_contact_query(query: str) -> bool:
    """Does the query look for a phone number or an e-mail address?"""
    return "@" in query or phone_search_digits(query) is not None


def _fts_match(words: list[str]) -> str:
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in words)


def _match(words: list[str]) -> Q:
    short = [w for w in words if len(w) < 3]
    longer = [w for w in words if len(w) >= 3]
    condition = Q()
    for w in short:
        condition &= Q(search_text__like=f"%{like_escape(w)}%")
    if not longer:
        return condition
    if connection.vendor == "sqlite":
        # The table name is a constant and the MATCH text a bound parameter.
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608  # nosec B608
        return condition & Q(id__in=RawSQL(sql, [_fts_match(longer)]))  # noqa: S611  # nosec B611
    for w in longer:
        condition &= Q(search_text__like=f"%{like_escape(w)}%")
    return condition


def search(
    queryset: QuerySet[Client], query: str, limit: int = MAX_RESULTS, names_only: bool = False
) -> QuerySet[Client]:
    """The best `limit` clients of `queryset` matching `query`, ranked; none for an empty query.

    With `names_only` (for viewers who may not see contacts or ids) every word must be in the
    name: search_text also holds e-mails and ids, and a match there would reveal them.
    """
    words = tokens(query)
    if not words:
        return queryset.none()
    candidates: Any = queryset.filter(_match(words)).values("id")[:limit]
    if names_only:
        found = queryset.filter(_match(words)).values_list("id", "name")[:limit]
        candidates = [pk for pk, name in found if all(w in fold(name) for w in words)]
    first = like_escape(words[0])
    return (
        queryset.filter(id__in=candidates)
        .annotate(
            rank=Case(
                When(search_text__like=f"{first}%", then=Value(0)),
                When(search_text__like=f"% {first}%", then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "name", "id")
    )
