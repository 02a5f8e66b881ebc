"""The matching engine: keys per client, blocking, and pair scoring with reasons.

Pure Python and numpy, no ORM: the batch scan feeds it plain rows of a million clients, the
single-record check a handful of candidates found by indexed keys. A pair is scored by adding
points for the evidence both records share (phone, e-mail, INN, passport, birthday, address,
names) and taking points away for evidence that they differ; some differences end the
comparison outright (two valid INNs that differ, different first names or patronymics,
a branch's other KPP). Every point added names its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from kartoteka.dedup.normalize import (
    address_key,
    clean_email,
    company_key,
    consonants,
    digits,
    latin,
    name_key,
    valid_inn,
)

MATCH_POINTS = 5.0
FULL_POINTS = 10.0  # the points that make a score of 1.0
CAP = 40  # a block with more members than this is too common to compare all pairs in it
LOOSE_CAP = 12  # the same for blocks on names alone
ID_CAP = 12  # a phone or e-mail of more clients than this is an office's or a family's


@dataclass(slots=True)
class Record:
    """A client as the engine reads it: the stored columns, phones in E.164, e-mails."""

    id: int
    kind: str
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    company_name: str = ""
    legal_form: str = ""
    inn: str = ""
    kpp: str = ""
    birthday: str = ""
    address: str = ""
    passport: str = ""
    phones: Sequence[str] = ()
    emails: Sequence[str] = ()


@dataclass(slots=True)
class Prepared:
    """A record's normalised keys."""

    id: int
    company: bool
    last: str
    first: str
    middle: str
    name: str  # a company's name without its legal form
    inn: str
    kpp: str
    bday: str
    address: str
    passport: str
    phones: frozenset[str]
    emails: frozenset[str]
    scripts: str = ""  # "c", "l" or "cl": which scripts the raw name used


@dataclass(frozen=True, slots=True)
class Match:
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pair:
    a: int
    b: int
    score: float
    reasons: tuple[str, ...] = field(default=())


def scripts(text: str) -> str:
    cyrillic = any("\u0400" <= ch <= "\u04ff" for ch in text)
    latin_ = any("a" <= ch <= "z" for ch in text.lower())
    return ("c" if cyrillic else "") + ("l" if latin_ else "")


def prepare(r: Record) -> Prepared:
    company = r.kind == "company"
    raw_name = r.company_name if company else f"{r.last_name} {r.first_name}"
    return Prepared(
        id=r.id,
        company=company,
        last="" if company else name_key(r.last_name),
        first="" if company else name_key(r.first_name),
        middle="" if company else name_key(r.middle_name),
        name=company_key(r.company_name, r.legal_form) if company else "",
        inn=valid_inn(r.inn),
        kpp=r.kpp.strip().upper(),
        bday=digits(r.birthday),
        address=address_key(r.address) if r.address else "",
        passport=digits(r.passport),
        phones=frozenset(p for p in r.phones if p),
        emails=frozenset(clean_email(e) for e in r.emails if e),
        scripts=scripts(raw_name),
    )


# --- keys -------------------------------------------------------------------------------------


def _pair(x: str, y: str) -> str:
    return "|".join(sorted((x, y)))


def id_keys(p: Prepared) -> Iterator[str]:
    """Keys that identify a client on their own: phones, e-mails, INN, passport."""
    for phone in p.phones:
        yield "p" + phone
    for email in p.emails:
        yield "e" + email
    if p.inn:
        yield "i" + p.inn
    if len(p.passport) >= 6:
        yield "d" + p.passport


def name_keys(p: Prepared) -> list[str]:
    """Keys on the name alone (kept in the key table for the single-record check)."""
    if p.company:
        return ["c" + p.name, "cc" + consonants(p.name)] if p.name else []
    if not (p.last or p.first):
        return []
    return ["n" + _pair(p.last, p.first), "nc" + _pair(consonants(p.last), consonants(p.first))]


# --- scoring ----------------------------------------------------------------------------------


def _sim(x: str, y: str) -> float | None:
    if not x or not y:
        return None
    if x == y:
        return 1.0
    if len(x) == 1 or len(y) == 1:  # an initial
        return 0.9 if x[0] == y[0] else 0.0
    return float(JaroWinkler.normalized_similarity(x, y))


_PATRONYMIC_END = re.compile(r"(ovic|evic|ic|ovna|evna|icna|na)$")


def _middle_sim(x: str, y: str) -> float | None:
    """Patronymics compared by their stems: Андреевич and Алексеевич share only the ending."""
    if not x or not y:
        return None
    if len(x) == 1 or len(y) == 1:
        return 0.9 if x[0] == y[0] else 0.0
    sx, sy = _PATRONYMIC_END.sub("", x), _PATRONYMIC_END.sub("", y)
    return float(fuzz.ratio(sx, sy)) / 100


def _address_sim(x: str, y: str) -> float | None:
    """Word-order-free similarity; an address with a part left out (the district, the flat)
    counts as similar, not as the same."""
    if not x or not y:
        return None
    sim = float(fuzz.token_sort_ratio(x, y)) / 100
    if sim < 0.85 and min(x.count(" "), y.count(" ")) >= 2 and fuzz.token_set_ratio(x, y) >= 95:
        return 0.85
    return sim


def _close_digits(x: str, y: str) -> bool:
    """Dates or numbers one typo apart (a digit changed, two swapped, day and month swapped)."""
    if len(x) != len(y):
        return False
    diff = [i for i in range(len(x)) if x[i] != y[i]]
    if len(diff) == 1:
        return True
    if len(diff) == 2 and diff[1] == diff[0] + 1 and x[diff[0]] == y[diff[1]]:
        return True
    return len(x) == 8 and x[:4] == y[:4] and x[4:6] == y[6:8] and x[6:8] == y[4:6]


def _ids(a: Prepared, b: Prepared, reasons: list[str]) -> tuple[float, bool]:
    """Points for shared ids; whether one of them (INN, passport) is decisive."""
    points = 0.0
    if a.phones & b.phones:
        points += 3
        reasons.append("phone")
    elif a.phones and b.phones:
        points -= 0.5
    if a.emails & b.emails:
        points += 4
        reasons.append("email")
    strong = False
    if a.inn and a.inn == b.inn:
        points += 5
        reasons.append("inn")
        strong = True
    if a.passport and b.passport and len(a.passport) >= 6:
        if a.passport == b.passport:
            points += 6
            reasons.append("passport")
            strong = True
        elif _close_digits(a.passport, b.passport):
            points += 3
            reasons.append("passport_close")
            strong = True
        else:
            points -= 0.5  # documents are replaced (at 20 and 45, on marriage, on loss)
    return points, strong


def _address(a: Prepared, b: Prepared, reasons: list[str], penalty: float) -> float:
    sim = _address_sim(a.address, b.address)
    if sim is None:
        return 0.0
    if sim >= 0.9:
        reasons.append("address")
        return 2.0
    if sim >= 0.7:
        reasons.append("address_similar")
        return 1.0 if sim >= 0.8 else 0.5
    return -penalty if sim < 0.5 else 0.0


_FEMININE = (("ov", "ova"), ("ev", "eva"), ("in", "ina"), ("ski", "ska"), ("cki", "cka"))


def _other_gender(x: str, y: str) -> bool:
    """Two forms of one surname: the masculine and the feminine."""
    if len(x) > len(y):
        x, y = y, x
    return any(
        x.endswith(m) and y.endswith(f) and x[: -len(m)] == y[: -len(f)] for m, f in _FEMININE
    )


def _names(a: Prepared, b: Prepared, reasons: list[str]) -> float | None:
    """Points for a person's names; None when they show two different people."""
    direct = (_sim(a.last, b.last), _sim(a.first, b.first))
    swapped = (_sim(a.last, b.first), _sim(a.first, b.last))
    turned = sum(s or 0 for s in swapped) > sum(s or 0 for s in direct) + 0.05
    if turned:
        last, first = swapped
        reasons.append("names_swapped")
    else:
        last, first = direct
    if _other_gender(a.last, b.first if turned else b.last):
        return None  # Лазарев and Лазарева: husband and wife, brother and sister
    if first is not None and first < 0.82:
        return None  # another first name: a relative, a colleague, a namesake
    if last is not None and last < 0.8:
        return _surname_changed(a, b, first, reasons)
    known = [s for s in (last, first) if s is not None]
    if not known:
        return None
    sim = sum(known) / len(known)
    points = 3.0 if sim >= 0.99 else 2.0 if sim >= 0.93 else 1.0
    reasons.append("name" if sim >= 0.99 else "name_similar")
    if sim >= 0.99 and a.scripts != b.scripts and a.scripts and b.scripts:
        reasons.append("transliteration")
    if len(known) == 1:
        points -= 1.5
    middle = _middle_sim(a.middle, b.middle)
    if middle is not None:
        if middle < 0.8:
            return None  # another patronymic: father and son, brothers' namesakes
        points += 0.5
        reasons.append("middle_name")
    return points


def _surname_changed(
    a: Prepared, b: Prepared, first: float | None, reasons: list[str]
) -> float | None:
    """Another surname, the same first name and patronymic: a surname changed on marriage,
    if the birthday or a document says it is one person (relatives differ in those)."""
    if first is None or first < 0.93 or not (a.middle == b.middle or not (a.middle and b.middle)):
        return None
    same_day = bool(a.bday) and a.bday == b.bday
    same_document = (bool(a.inn) and a.inn == b.inn) or (
        len(a.passport) >= 6 and a.passport == b.passport
    )
    if not (same_day or same_document):
        return None
    reasons.append("surname_changed")
    return 1.0


def _birthday(a: Prepared, b: Prepared, reasons: list[str]) -> float:
    if not (a.bday and b.bday):
        return 0.0
    if a.bday == b.bday:
        reasons.append("birthday")
        return 3.0
    if _close_digits(a.bday, b.bday):
        reasons.append("birthday_close")
        return 1.0
    return -2.0


def compare_persons(a: Prepared, b: Prepared) -> Match | None:
    if a.inn and b.inn and a.inn != b.inn:
        return None
    reasons: list[str] = []
    points, strong = _ids(a, b, reasons)
    names = _names(a, b, reasons)
    if names is None:
        if not strong:
            return None
        names = -1.0
    points += names + _birthday(a, b, reasons) + _address(a, b, reasons, 1.0)
    return _match(points, reasons)


def compare_companies(a: Prepared, b: Prepared) -> Match | None:
    if a.inn and b.inn and a.inn != b.inn:
        return None
    if a.inn and a.inn == b.inn and a.kpp and b.kpp and a.kpp != b.kpp:
        return None  # a branch: one INN, its own KPP
    reasons: list[str] = []
    points, strong = _ids(a, b, reasons)
    if a.name and b.name:
        sim = max(
            float(JaroWinkler.normalized_similarity(a.name, b.name)),
            float(fuzz.token_sort_ratio(a.name, b.name)) / 100,
        )
        if sim < 0.88 and not strong:
            return None
        if sim >= 0.88:
            points += 3.0 if sim >= 0.99 else 2.0 if sim >= 0.94 else 1.0
            reasons.append("company_name" if sim >= 0.99 else "company_name_similar")
    elif not strong:
        return None
    points += _address(a, b, reasons, 2.0)
    return _match(points, reasons)


def _match(points: float, reasons: list[str]) -> Match | None:
    if points < MATCH_POINTS:
        return None
    return Match(round(min(points, FULL_POINTS) / FULL_POINTS, 2), tuple(reasons))


def compare(a: Prepared, b: Prepared) -> Match | None:
    """The pair's score and reasons if they look like one client, else None."""
    if a.company != b.company:
        return None
    return compare_companies(a, b) if a.company else compare_persons(a, b)


# --- many records ------------------------------------------------------------------------------


def find_pairs(prepared: Sequence[Prepared], skip: Iterable[tuple[int, int]] = ()) -> list[Pair]:
    """Every likely duplicate pair among `prepared`, by client id (a < b), best first.

    The blocking is columnar (`batch.py`); the database scan builds its columns directly.
    """
    from kartoteka.dedup import batch, bound

    return bound.find_pairs(batch.Table.from_prepared(prepared), skip)


def clusters(pairs: Iterable[Pair]) -> dict[int, int]:
    """Client id -> the smallest id of its cluster (clients connected through pairs)."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        ra, rb = root(pair.a), root(pair.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: root(x) for x in parent}


def best_matches(
    new: Prepared, candidates: Iterable[Prepared], limit: int = 10
) -> list[tuple[int, Match]]:
    """The candidates that look like `new`, best first."""
    found = [(c.id, m) for c in candidates if c.id != new.id and (m := compare(new, c)) is not None]
    found.sort(key=lambda f: (-f[1].score, f[0]))
    return found[:limit]


__all__ = [
    "Match",
    "Pair",
    "Prepared",
    "Record",
    "best_matches",
    "clusters",
    "compare",
    "find_pairs",
    "latin",
    "name_keys",
    "prepare",
]
