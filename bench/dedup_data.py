"""A Russian-style client base with injected duplicates, hard negatives and the ground truth.

Persons and companies from the demo vocabulary; duplicates of every kind the engine must find
(phones in another format, e-mails in another case, names in Latin under several
transliteration schemes, first and last name swapped, typos, a person's INN, a company's legal
form spelt otherwise or dropped) and pairs it must not join (households at one address with one
home phone, father and son, namesakes, namesake companies, a company's branch).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from kartoteka.clients import demo_words as w
from kartoteka.clients.demo_rows import female_surname, inn10, inn12
from kartoteka.dedup.engine import Record

DUPLICATE_KINDS = (
    "phone_format",
    "email_case",
    "translit",
    "swapped",
    "typo",
    "inn",
    "legal_form",
    "company_translit",
    "company_typo",
)
NEGATIVE_KINDS = ("household", "father_son", "namesake", "namesake_company", "branch")

_BASE = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", range(33), strict=True))
_COMMON = "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya"
_SCHEMES = tuple(
    scheme.split()
    for scheme in (
        _COMMON,
        "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch ie y _ e iu ia",  # ICAO
        "a b v g d e yo j z i j k l m n o p r s t u f h c ch sh sch _ y _ e ju ja",
        "a b v g d ye yo zh z i y k l m n o p r s t u f h tz ch sh sch _ i _ e yu ya",
    )
)
_FORMS = (
    ("ООО", "«{}»"),
    ("", 'ООО "{}"'),
    ("", "Общество с ограниченной ответственностью «{}»"),
    ("", "«{}»"),
    ("", "{}"),
    ("", 'OOO "{}"'),
)


def translit(text: str, scheme: int) -> str:
    table = _SCHEMES[scheme]
    out = []
    for ch in text:
        low = ch.lower()
        if low not in _BASE:
            out.append(ch)
            continue
        latin = table[_BASE[low]].replace("_", "")
        out.append(latin.capitalize() if ch != low else latin)
    return "".join(out)


@dataclass
class Dataset:
    records: list[Record] = field(default_factory=list)
    truth: dict[tuple[int, int], str] = field(default_factory=dict)  # duplicate pair -> kind
    negatives: dict[tuple[int, int], str] = field(default_factory=dict)

    def add(self, record: Record) -> Record:
        record.id = len(self.records) + 1
        self.records.append(record)
        return record


class Generator:
    def __init__(self, seed: int = 1) -> None:
        self.r = random.Random(seed)

    # --- values -------------------------------------------------------------------------------

    def mobile(self) -> str:
        while not w.MOBILE_RE.fullmatch(national := f"9{self.r.randint(0, 10**9 - 1):09d}"):
            continue
        return "+7" + national

    def home_phone(self) -> str:
        return f"+7495{self.r.randint(10**6, 10**7 - 1)}"

    def formatted(self, e164: str) -> str:
        """The same number as people type it (the check normalises it first)."""
        d = e164[2:]
        return self.r.choice(
            (
                f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",
                f"+7{d}",
                f"8{d}",
                f"+7 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}",
                f"{d}",
            )
        )

    def address(self) -> str:
        r = self.r
        return (
            f"г. {r.choice(w.CITIES).replace('_', ' ')}, ул. {r.choice(w.STREETS)}, "
            f"д. {r.randint(1, 150)}, кв. {r.randint(1, 300)}"
        )

    def birthday(self) -> str:
        r = self.r
        return f"{r.randint(1945, 2006)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"

    def inn_person(self) -> str:
        return inn12(f"77{self.r.randint(0, 10**8 - 1):08d}")

    def inn_company(self) -> str:
        return inn10(f"{self.r.choice(w.REGIONS)}{self.r.randint(0, 10**7 - 1):07d}")

    def typo(self, text: str) -> str:
        r = self.r
        if len(text) < 4:
            return text
        i = r.randint(1, len(text) - 2)
        op = r.randint(0, 3)
        letters = "аеиоуклмнрст"
        if op == 0:
            return text[:i] + r.choice(letters) + text[i + 1 :]
        if op == 1:
            return text[:i] + text[i + 1 :]
        if op == 2:
            return text[:i] + r.choice(letters) + text[i:]
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]

    # --- originals ----------------------------------------------------------------------------

    def person(self) -> Record:
        r = self.r
        male = r.random() < 0.5
        last = r.choice(w.SURNAMES)
        middle = r.choice(w.PATRONYMIC) if r.random() < 0.9 else ""
        record = Record(
            id=0,
            kind="person",
            last_name=last if male else female_surname(last),
            first_name=r.choice(w.MALE if male else w.FEMALE),
            middle_name=middle if male or not middle else middle[:-2] + "на",
            birthday=self.birthday() if r.random() < 0.7 else "",
            address=self.address() if r.random() < 0.6 else "",
            inn=self.inn_person() if r.random() < 0.1 else "",
            phones=[self.mobile()] if r.random() < 0.9 else [],
        )
        if r.random() < 0.6:
            mail = translit(f"{record.first_name}.{record.last_name}", 0).lower()
            record.emails = [f"{mail}{r.randint(1, 9999)}@{r.choice(w.MAIL)}"]
        return record

    def company(self) -> Record:
        r = self.r
        brand = r.choice(w.BRAND_A) + r.choice(w.BRAND_B).lower()
        if r.random() < 0.5:
            brand += f" {r.choice(w.CITIES).replace('_', ' ')}"
        inn = self.inn_company() if r.random() < 0.9 else ""
        return Record(
            id=0,
            kind="company",
            company_name=f"«{brand}»",
            legal_form=r.choice(("ООО", "ООО", "АО")),
            inn=inn,
            kpp=(inn[:4] + "01001") if inn else "",
            address=self.address().rsplit(",", 1)[0] if r.random() < 0.8 else "",
            phones=[self.home_phone()] if r.random() < 0.85 else [],
            emails=[f"info{r.randint(1, 99999)}@{r.choice(w.MAIL)}"] if r.random() < 0.5 else [],
        )

    # --- duplicates ---------------------------------------------------------------------------

    def _thin(self, d: Record, keep: str) -> Record:
        """Drop some of a copy's fields, keeping the one the duplicate is found by."""
        r = self.r
        if keep != "phone" and r.random() < 0.6:
            d.phones = []
        if keep != "email" and r.random() < 0.6:
            d.emails = []
        if keep != "birthday" and r.random() < 0.4:
            d.birthday = ""
        if r.random() < 0.3:
            d.middle_name = ""
        if r.random() < 0.5:
            d.address = ""
        if keep != "inn":
            d.inn = "" if r.random() < 0.7 else d.inn
        return d

    def _keep(self, o: Record) -> str:
        options = [
            k for k, v in (("phone", o.phones), ("email", o.emails), ("birthday", o.birthday)) if v
        ]
        return self.r.choice(options) if options else ""

    def duplicate(self, o: Record, kind: str) -> Record | None:
        r = self.r
        d = replace(o, phones=list(o.phones), emails=list(o.emails))
        if kind == "phone_format":
            if not o.phones:
                return None
            d.phones = [self.formatted(o.phones[0])]
            return self._thin(d, "phone")
        if kind == "email_case":
            if not o.emails:
                return None
            e = o.emails[0]
            d.emails = [f" {e.upper() if r.random() < 0.5 else e.capitalize()} "]
            return self._thin(d, "email")
        if kind == "translit":
            keep = self._keep(o)
            if not keep:
                return None
            s = r.randrange(len(_SCHEMES))
            d.last_name, d.first_name = translit(o.last_name, s), translit(o.first_name, s)
            d.middle_name = translit(o.middle_name, s)
            return self._thin(d, keep)
        if kind == "swapped":
            keep = self._keep(o)
            if not keep:
                return None
            d.last_name, d.first_name = o.first_name, o.last_name
            return self._thin(d, keep)
        if kind == "typo":
            keep = self._keep(o)
            if not keep:
                return None
            if r.random() < 0.5:
                d.last_name = self.typo(o.last_name)
            else:
                d.first_name = self.typo(o.first_name)
            return self._thin(d, keep)
        if kind == "inn":
            if not o.inn:
                return None
            d = self._thin(d, "inn")
            d.last_name = self.typo(o.last_name) if r.random() < 0.3 else o.last_name
            d.phones, d.emails = [], []
            return d
        return self.company_duplicate(o, d, kind)

    def company_duplicate(self, o: Record, d: Record, kind: str) -> Record | None:
        r = self.r
        brand = o.company_name.strip("«»")
        keep = r.choice(
            [k for k, v in (("inn", o.inn), ("phone", o.phones), ("email", o.emails)) if v] or [""]
        )
        if not keep:
            return None
        if kind == "legal_form":
            form, pattern = r.choice(_FORMS)
            d.legal_form, d.company_name = form, pattern.format(brand)
        elif kind == "company_translit":
            d.legal_form, d.company_name = (
                "",
                f'OOO "{translit(brand, r.randrange(len(_SCHEMES)))}"',
            )
        elif kind == "company_typo":
            d.company_name = f"«{self.typo(brand)}»"
        if keep != "inn":
            d.inn, d.kpp = ("", "") if r.random() < 0.7 else (o.inn, o.kpp)
        if keep != "phone" and r.random() < 0.6:
            d.phones = []
        if keep != "email" and r.random() < 0.6:
            d.emails = []
        if r.random() < 0.5:
            d.address = ""
        return d

    # --- hard negatives -----------------------------------------------------------------------

    def negative(self, o: Record, kind: str) -> Record | None:
        r = self.r
        if kind == "household" and o.kind == "person":
            male = r.random() < 0.5
            base = (
                o.last_name.removesuffix("а")
                if o.last_name.endswith(("ова", "ева", "ина"))
                else o.last_name
            )
            first = r.choice([f for f in (w.MALE if male else w.FEMALE) if f != o.first_name])
            return Record(
                id=0,
                kind="person",
                last_name=base if male else female_surname(base),
                first_name=first,
                middle_name=r.choice(w.PATRONYMIC) if r.random() < 0.5 else "",
                birthday=self.birthday() if r.random() < 0.7 else "",
                address=o.address or self.address(),
                phones=[self.home_phone() if not o.phones else o.phones[0]],
            )
        if kind == "father_son" and o.kind == "person" and o.middle_name.endswith("вич"):
            middle = r.choice([m for m in w.PATRONYMIC if m != o.middle_name])
            return replace(o, middle_name=middle, birthday=self.birthday(), emails=[], inn="")
        if kind == "namesake" and o.kind == "person":
            return replace(
                o,
                birthday=self.birthday() if o.birthday else "",
                phones=[self.mobile()],
                emails=[],
                address=self.address() if r.random() < 0.5 else "",
                inn="",
            )
        if kind == "namesake_company" and o.kind == "company":
            inn = self.inn_company() if r.random() < 0.8 else ""
            return replace(
                o,
                inn=inn,
                kpp=(inn[:4] + "01001") if inn else "",
                address=self.address().rsplit(",", 1)[0],
                phones=[self.home_phone()],
                emails=[],
            )
        if kind == "branch" and o.kind == "company" and o.inn:
            return replace(
                o,
                company_name=o.company_name.rstrip("»") + " филиал»",
                kpp=o.inn[:4] + f"{r.randint(2, 99):02d}001",
                address=self.address().rsplit(",", 1)[0],
                phones=[self.home_phone()],
                emails=[],
            )
        return None

    # --- the set ------------------------------------------------------------------------------

    def build(self, total: int, duplicates: float = 0.08, negatives: float = 0.04) -> Dataset:
        data = Dataset()
        r = self.r
        originals = int(total * (1 - duplicates - negatives))
        for i in range(originals):
            data.add(self.company() if i % 5 == 0 else self.person())
        person_dups = DUPLICATE_KINDS[:6]
        company_dups = DUPLICATE_KINDS[6:]
        while len(data.records) < total:
            o = data.records[r.randrange(originals)]
            company = o.kind == "company"
            if r.random() < duplicates / (duplicates + negatives):
                kind = r.choice(company_dups if company else person_dups)
                made = self.duplicate(o, kind)
                target = data.truth
            else:
                kind = r.choice(NEGATIVE_KINDS[3:] if company else NEGATIVE_KINDS[:3])
                made = self.negative(o, kind)
                target = data.negatives
            if made is None:
                continue
            made = data.add(made)
            target[(o.id, made.id)] = kind
        # A duplicate of an original is also a duplicate of the original's other duplicates.
        self._close(data)
        return data

    @staticmethod
    def _close(data: Dataset) -> None:
        groups: dict[int, list[int]] = {}
        for (a, b), _kind in data.truth.items():
            groups.setdefault(a, [a]).append(b)
        for members in groups.values():
            for x in members[1:]:
                for y in members[1:]:
                    if x < y:
                        data.truth.setdefault((x, y), "sibling_duplicates")


def records(data: Dataset) -> Iterator[Record]:
    yield from data.records


__all__ = ["DUPLICATE_KINDS", "NEGATIVE_KINDS", "Dataset", "Generator", "translit"]
