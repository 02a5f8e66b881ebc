"""The batch scan as columns: every distinct value folded once, blocking done by numpy.

A million clients hold a few thousand distinct first names, surnames and birthdays; folding
each distinct value once and turning it into an integer code replaces a million calls per
column by a few thousand, and the blocking keys become arrays of codes joined pairwise, grouped
by one sort. Python objects (`engine.Prepared`) are built only for the clients that end up in a
candidate pair, and the pair is scored by `engine.compare` as everywhere else (`bound.py`: the
numpy bound that drops hopeless pairs first, and `find_pairs`).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from kartoteka.dedup import engine
from kartoteka.dedup.normalize import (
    address_key,
    clean_email,
    company_key,
    consonants,
    digits,
    name_key,
    valid_inn,
)

CAP = engine.CAP
LOOSE_CAP = engine.LOOSE_CAP
ID_CAP = engine.ID_CAP
Codes = np.ndarray


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cycle collector off while millions of acyclic rows are built: it would only rescan
    them (the demo loader does the same)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def fold(values: Sequence[Any], fn: Callable[[Any], str]) -> list[str]:
    """`fn` of every value, computed once per distinct value."""
    table = {v: fn(v) for v in set(values)}
    return list(map(table.__getitem__, values))


@dataclass
class Column:
    """Strings as a vocabulary of distinct values and one code per row (-1 for "")."""

    vocab: list[str]
    codes: np.ndarray

    @classmethod
    def of(cls, values: Sequence[Any], fn: Callable[[Any], str] = str) -> Column:
        """`fn` applied once per distinct value, the results coded."""
        return cls.many(values, fn)[0]

    @classmethod
    def many(cls, values: Sequence[Any], *fns: Callable[[Any], str]) -> list[Column]:
        """One column per function, from one pass over the rows (the costly part at 1M)."""
        distinct = list(set(values))
        at = {v: i for i, v in enumerate(distinct)}
        rows = np.fromiter(map(at.__getitem__, values), dtype=np.int64, count=len(values))
        out = []
        for fn in fns:
            vocab, inverse = _factorise([fn(v) for v in distinct])
            out.append(cls(vocab, inverse[rows] if len(rows) else rows))
        return out

    def derive(self, fn: Callable[[str], str]) -> Column:
        """`fn` of each row's value, computed on the vocabulary only."""
        vocab, inverse = _factorise([fn(v) for v in self.vocab])
        return Column(vocab, _take(inverse, self.codes))

    def value(self, i: int) -> str:
        code = int(self.codes[i])
        return self.vocab[code] if code >= 0 else ""

    def present(self) -> np.ndarray:
        return self.codes >= 0


def _factorise(values: list[str]) -> tuple[list[str], np.ndarray]:
    """Distinct non-empty values and each value's index among them (-1 for "")."""
    at: dict[str, int] = {"": -1}
    inverse = [at.setdefault(v, len(at) - 1) for v in values]
    del at[""]
    return list(at), np.asarray(inverse, dtype=np.int64)


def _take(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """table[codes], keeping -1 as -1."""
    if not len(table):
        return np.full(len(codes), -1, dtype=np.int64)
    out = table[np.where(codes < 0, 0, codes)]
    out[codes < 0] = -1
    return out


def shared(a: Column, b: Column) -> tuple[Column, Column]:
    """The two columns recoded over one vocabulary (a surname in the first-name field meets it)."""
    vocab, inverse = _factorise(a.vocab + b.vocab)
    return (
        Column(vocab, _take(inverse[: len(a.vocab)], a.codes)),
        Column(vocab, _take(inverse[len(a.vocab) :], b.codes)),
    )


def distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) by one sort (numpy's hashing path is slower on
    millions of int64)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    fresh = np.ones(len(ordered), dtype=bool)
    fresh[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(fresh) - 1
    return ordered[fresh], inverse


def ranges(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The concatenation of range(start[k], start[k] + count[k]) for every k."""
    step = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return np.repeat(start, count) + step


def join(a: Codes, b: Codes) -> Codes:
    """One code per distinct (a, b); -1 where either is missing."""
    ok = (a >= 0) & (b >= 0)
    out = np.full(len(a), -1, dtype=np.int64)
    if ok.any():
        _, inverse = distinct(a[ok] * (int(b.max()) + 1) + b[ok])
        out[ok] = inverse.ravel()
    return out


def unordered(a: Codes, b: Codes) -> Codes:
    """A code per {a, b} in either order; one side may be missing, not both."""
    top = int(max(a.max(initial=0), b.max(initial=0))) + 1
    x, y = np.where(a < 0, top, a), np.where(b < 0, top, b)
    out = join(np.minimum(x, y), np.maximum(x, y))
    out[(a < 0) & (b < 0)] = -1
    return out


_COLUMNS = [
    "last",
    "first",
    "middle",
    "name",
    "inn",
    "kpp",
    "bday",
    "address",
    "passport",
    "scripts",
]


@dataclass
class Table:
    """Normalised clients as columns (row i is one client), contacts as (owner row, value)."""

    ids: np.ndarray
    company: np.ndarray  # bool
    last: Column
    first: Column
    middle: Column
    name: Column  # a company's name without its legal form
    inn: Column
    kpp: Column
    bday: Column
    address: Column
    passport: Column
    scripts: Column
    phone_owner: np.ndarray
    phone: Column
    email_owner: np.ndarray
    email: Column

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_prepared(cls, prepared: Sequence[engine.Prepared]) -> Table:
        def col(name: str) -> Column:
            return Column.of([getattr(p, name) for p in prepared])

        phones = [(i, x) for i, p in enumerate(prepared) for x in sorted(p.phones)]
        emails = [(i, x) for i, p in enumerate(prepared) for x in sorted(p.emails)]
        columns = {name: col(name) for name in _COLUMNS}
        return cls(
            ids=np.asarray([p.id for p in prepared], dtype=np.int64),
            company=np.asarray([p.company for p in prepared], dtype=bool),
            **columns,
            phone_owner=np.asarray([i for i, _x in phones], dtype=np.int64),
            phone=Column.of([x for _i, x in phones]),
            email_owner=np.asarray([i for i, _x in emails], dtype=np.int64),
            email=Column.of([x for _i, x in emails]),
        )

    def prepared(self, rows: Sequence[int]) -> dict[int, engine.Prepared]:
        """engine.Prepared of the given rows (the ones in candidate pairs), by row."""
        wanted = np.zeros(len(self), dtype=bool)
        wanted[list(rows)] = True
        phones = _contacts(self.phone_owner, self.phone, wanted)
        emails = _contacts(self.email_owner, self.email, wanted)
        columns = [getattr(self, name) for name in _COLUMNS]
        ids, company = self.ids.tolist(), self.company.tolist()
        out = {}
        for i in rows:
            last, first, middle, name, inn, kpp, bday, address, passport, scripts = (
                c.value(i) for c in columns
            )
            out[i] = engine.Prepared(
                ids[i], company[i], last, first, middle, name, inn, kpp, bday, address,
                passport, frozenset(phones.get(i, ())), frozenset(emails.get(i, ())), scripts,
            )  # fmt: skip
        return out


@dataclass
class Raw:
    """Clients as the database stores them, one list per column, contacts by client id."""

    ids: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    last_name: list[str] = field(default_factory=list)
    first_name: list[str] = field(default_factory=list)
    middle_name: list[str] = field(default_factory=list)
    company_name: list[str] = field(default_factory=list)
    legal_form: list[str] = field(default_factory=list)
    inn: list[str] = field(default_factory=list)
    kpp: list[str] = field(default_factory=list)
    birthday: list[Any] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    passport: list[str] = field(default_factory=list)
    phone_client: list[int] = field(default_factory=list)
    phone: list[str] = field(default_factory=list)
    email_client: list[int] = field(default_factory=list)
    email: list[str] = field(default_factory=list)

    COLUMNS: ClassVar[tuple[str, ...]] = ("ids", "kind", "last_name", "first_name", "middle_name")
    COLUMNS += ("company_name", "legal_form", "inn", "kpp", "birthday", "address", "passport")

    def __len__(self) -> int:
        return len(self.ids)

    def add_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        """Client rows in the order of COLUMNS (a birthday may be a date or None)."""
        if not rows:
            return
        for name, column in zip(self.COLUMNS, zip(*rows, strict=True), strict=True):
            getattr(self, name).extend(column)

    @classmethod
    def from_records(cls, records: Iterable[engine.Record]) -> Raw:
        raw = cls()
        rows = []
        for r in records:
            rows.append(
                (r.id, r.kind, r.last_name, r.first_name, r.middle_name, r.company_name,
                 r.legal_form, r.inn, r.kpp, r.birthday, r.address, r.passport)
            )  # fmt: skip
            raw.phone_client.extend([r.id] * len(r.phones))
            raw.phone.extend(r.phones)
            raw.email_client.extend([r.id] * len(r.emails))
            raw.email.extend(r.emails)
        raw.add_rows(rows)
        return raw


def _owners(ids: np.ndarray, clients: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `clients` in the sorted `ids`, and which of them are there at all."""
    wanted = np.asarray(clients, dtype=np.int64)
    if not len(ids):
        return np.empty(0, dtype=np.int64), np.zeros(len(wanted), dtype=bool)
    at = np.searchsorted(ids, wanted)
    at[at >= len(ids)] = 0
    known = ids[at] == wanted
    return at[known], known


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _kept(values: Sequence[str], keep: np.ndarray) -> list[str]:
    return [v for v, k in zip(values, keep.tolist(), strict=True) if k]


def table_from_raw(raw: Raw) -> Table:
    """Fold a Raw's columns into a Table (clients in ascending id order, as the reader reads)."""
    ids = np.asarray(raw.ids, dtype=np.int64)
    if len(ids) > 1 and np.any(ids[1:] <= ids[:-1]):
        raise ValueError("clients must come in ascending id order")
    company = np.asarray([k == "company" for k in raw.kind], dtype=bool)

    def only(col: Column, where: np.ndarray) -> Column:
        col.codes[~where] = -1
        return col

    last, last_scripts = Column.many(raw.last_name, name_key, _script_bits)
    first, first_scripts = Column.many(raw.first_name, name_key, _script_bits)
    name, name_scripts = Column.many(
        raw.company_name, lambda v: company_key(_text(v)), _script_bits
    )
    phone_at, phone_known = _owners(ids, raw.phone_client)
    email_at, email_known = _owners(ids, raw.email_client)
    return Table(
        ids,
        company,
        only(last, ~company),
        only(first, ~company),
        only(Column.of(raw.middle_name, name_key), ~company),
        only(name, company),
        Column.of(raw.inn, lambda v: valid_inn(_text(v))),
        Column.of(raw.kpp, lambda v: _text(v).strip().upper()),
        Column.of(raw.birthday, lambda v: digits(_text(v))),
        Column.of(raw.address, lambda v: address_key(v) if v else ""),
        Column.of(raw.passport, lambda v: digits(_text(v))),
        _scripts(company, name_scripts, last_scripts, first_scripts),
        phone_owner=phone_at,
        phone=Column.of(_kept(raw.phone, phone_known), _text),
        email_owner=email_at,
        email=Column.of(_kept(raw.email, email_known), lambda v: clean_email(_text(v))),
    )


_SCRIPTS = ("", "c", "l", "cl")  # engine.scripts' answers, as bits: Cyrillic 1, Latin 2


def _script_bits(value: Any) -> str:
    return str(_SCRIPTS.index(engine.scripts(_text(value))))


def _scripts(company: np.ndarray, name: Column, last: Column, first: Column) -> Column:
    """engine.scripts of the raw name (the company's, or the person's surname and first name)
    from the scripts of each part: the union of their bits."""

    def bits(col: Column) -> np.ndarray:
        return _take(np.asarray([int(v) for v in col.vocab], dtype=np.int64), col.codes).clip(0)

    combined = np.where(company, bits(name), bits(last) | bits(first))
    return Column(list(_SCRIPTS[1:]), combined - 1)


# --- blocking ---------------------------------------------------------------------------------


@dataclass
class _Keys:
    """Blocking keys as (code, owner) arrays, each kind of key in its own range of codes."""

    codes: list[np.ndarray] = field(default_factory=list)
    owners: list[np.ndarray] = field(default_factory=list)
    offset: int = 0

    def add(self, key: Codes, owners: np.ndarray | None = None, where: Any = None) -> None:
        rows = np.arange(len(key), dtype=np.int64) if owners is None else owners
        ok = key >= 0 if where is None else (key >= 0) & where
        if not ok.any():
            return
        self.codes.append(key[ok] + self.offset)
        self.owners.append(rows[ok])
        self.offset += int(key.max()) + 1

    def pairs(self, cap: int) -> np.ndarray:
        if not self.codes:
            return np.empty((0, 2), dtype=np.int64)
        return block_pairs(np.concatenate(self.codes), np.concatenate(self.owners), cap)


def block_pairs(keys: np.ndarray, owners: np.ndarray, cap: int) -> np.ndarray:
    """Every pair of owners sharing a key held by 2..cap owners."""
    order = np.lexsort((owners, keys))
    keys, owners = keys[order], owners[order]
    fresh = np.ones(len(keys), dtype=bool)
    fresh[1:] = (keys[1:] != keys[:-1]) | (owners[1:] != owners[:-1])
    keys, owners = keys[fresh], owners[fresh]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    sizes = np.diff(np.concatenate((starts, [len(keys)])))
    out = [np.empty((0, 2), dtype=np.int64)]
    for size in range(2, cap + 1):
        first = starts[sizes == size]
        if not len(first):
            continue
        members = owners[first[:, None] + np.arange(size)]
        i, j = np.triu_indices(size, 1)
        out.append(np.stack((members[:, i].ravel(), members[:, j].ravel()), axis=1))
    return np.concatenate(out)


def _deletions(passport: Column) -> tuple[Codes, np.ndarray]:
    """A number with one digit left out, at every position, as one kind of key: a typo (a digit
    changed, or two neighbours swapped) leaves the two numbers sharing one of these keys."""
    variant: list[str] = []
    of_value: list[int] = []
    for code, value in enumerate(passport.vocab):
        if len(value) >= 6:
            variant.extend(value[:at] + value[at + 1 :] for at in range(len(value)))
            of_value.extend([code] * len(value))
    if not variant:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    variant_code = _factorise(variant)[1]
    values = np.asarray(of_value, dtype=np.int64)  # ascending: built in vocabulary order
    rows = np.flatnonzero(passport.codes >= 0)
    lo = np.searchsorted(values, passport.codes[rows], "left")
    count = np.searchsorted(values, passport.codes[rows], "right") - lo
    return variant_code[ranges(lo, count)], np.repeat(rows, count)


def candidate_pairs(t: Table) -> np.ndarray:
    """Unique (i, j) row pairs, i < j, sharing a blocking key.

    Ids (phone, e-mail, INN, passport) in blocks of up to ID_CAP: a number or mailbox shared by
    more clients is an office's, not a person's. Names with a birthday in blocks of up to CAP.
    Names with only a patronymic or an address, names alone (for persons with neither
    birthday nor patronymic) and company names, all too common at a million clients, in
    blocks of up to LOOSE_CAP.
    """
    person = ~t.company
    last, first = shared(t.last, t.first)
    clast, cfirst = shared(last.derive(consonants), first.derive(consonants))
    pair, cpair = unordered(last.codes, first.codes), unordered(clast.codes, cfirst.codes)
    bday = t.bday.codes
    address_digits = t.address.derive(digits).codes
    bare = person & (bday < 0) & (t.middle.codes < 0)

    ids, strict, loose = _Keys(), _Keys(), _Keys()
    ids.add(t.phone.codes, t.phone_owner)
    ids.add(t.email.codes, t.email_owner)
    ids.add(t.inn.codes)
    ids.add(*_deletions(t.passport))
    for key in (
        join(pair, bday),
        join(cpair, bday),
        join(last.codes, bday),
        join(first.codes, bday),
        join(bday, address_digits),
    ):
        strict.add(key, where=person)
    for key in (
        join(pair, t.middle.derive(lambda m: m[:3]).codes),
        join(cpair, t.middle.derive(lambda m: consonants(m)[:3]).codes),
        join(t.address.codes, last.derive(lambda x: x[:4]).codes),
        join(address_digits, last.derive(lambda x: x[:2]).codes),
    ):
        loose.add(key, where=person)
    loose.add(pair, where=bare)
    loose.add(cpair, where=bare)
    loose.add(t.name.codes, where=t.company)
    loose.add(t.name.derive(consonants).codes, where=t.company)

    both = np.concatenate((ids.pairs(ID_CAP), strict.pairs(CAP), loose.pairs(LOOSE_CAP)))
    both.sort(axis=1)
    both = both[both[:, 0] != both[:, 1]]
    n = np.int64(max(len(t), 1))
    unique = distinct(both[:, 0] * n + both[:, 1])[0]
    return np.stack((unique // n, unique % n), axis=1)


def _contacts(owner: np.ndarray, values: Column, wanted: np.ndarray) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if not len(owner):
        return found
    keep = np.flatnonzero(wanted[owner] & (values.codes >= 0))
    vocab = values.vocab
    for who, code in zip(owner[keep].tolist(), values.codes[keep].tolist(), strict=True):
        found[who].append(vocab[code])
    return found
