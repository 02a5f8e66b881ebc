"""Rows of realistic Russian demo data as plain tuples, deterministic from a seed.

No model instances and no database access: `kartoteka.clients.demo` writes these rows in bulk.
Derived columns (name, primary phone and e-mail, search_text, completeness, last_contact_at)
follow the services' rules through the same functions, called on a lightweight `Card`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, cast

from kartoteka.clients import completeness
from kartoteka.clients import demo_words as w
from kartoteka.clients.derived import search_text
from kartoteka.clients.models import Client


def _check(digits: str, weights: Sequence[int]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10)


def inn10(head: str) -> str:
    """A company INN: nine digits and the check digit."""
    return head + _check(head, (2, 4, 10, 3, 5, 9, 4, 6, 8))


def inn12(head: str) -> str:
    """A person's (sole trader's) INN: ten digits and two check digits."""
    first = head + _check(head, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
    return first + _check(first, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))


def female_surname(surname: str) -> str:
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith(("ский", "цкий", "ской", "ой")):
        return surname[:-2] + "ая"
    return surname


def translit(text: str) -> str:
    return "".join(w.TRANSLIT.get(ch, ch) for ch in text.lower()).replace("_", "")


@dataclass(slots=True)
class Card:
    """The columns completeness and search look at, without a model instance."""

    kind: str
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    company_name: str = ""
    legal_form: str = ""
    inn: str = ""
    kpp: str = ""
    ogrn: str = ""
    birthday: int | None = None
    company_day: int | None = None
    website: str = ""
    address: str = ""
    description: str = ""
    owner_id: int | None = None
    source: str = ""
    stage: str = "lead"
    external_id: str = ""
    primary_phone: str = ""
    primary_email: str = ""
    custom: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)

    @property
    def is_person(self) -> bool:
        return self.kind == "person"


@dataclass
class Chunk:
    clients: list[tuple[Any, ...]] = field(default_factory=list)
    phones: list[tuple[Any, ...]] = field(default_factory=list)
    emails: list[tuple[Any, ...]] = field(default_factory=list)
    jobs: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[Any, ...]] = field(default_factory=list)
    interactions: list[tuple[Any, ...]] = field(default_factory=list)

    def rows(self) -> int:
        return sum(len(getattr(self, f.name)) for f in fields(self))


@dataclass
class Summary:
    clients: int
    interactions: int
    rows: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        rate = round(self.rows / self.seconds) if self.seconds else 0
        return {
            "clients": self.clients,
            "interactions": self.interactions,
            "rows": self.rows,
            "seconds": round(self.seconds, 2),
            "rows_per_second": rate,
        }


class Generator:
    """Builds rows; every random choice comes from one seeded stream, so a seed repeats a load."""

    def __init__(
        self,
        seed: int,
        managers: list[int],
        tags: list[int],
        *,
        now: int,
        per_client: float,
        postgres: bool,
        base: int = 0,
    ) -> None:
        self.r = random.Random(seed)
        self.managers, self.tag_ids, self.now, self.per_client = managers, tags, now, per_client
        self.postgres, self.base = postgres, base
        self.weights = {k: completeness.weights(k) for k in Client.Kind.values}
        self.surnames, self.male, self.female = w.SURNAMES, w.MALE, w.FEMALE
        self.patronymics = w.PATRONYMIC

    def chunk(self, first_id: int, count: int) -> Chunk:
        out = Chunk()
        cards = [self.card(first_id + i) for i in range(count)]
        companies = [i for i, c in enumerate(cards) if c.kind == "company"]
        staff = self.link_people(first_id, cards, companies, out)
        for i, card in enumerate(cards):
            self.contacts(first_id + i, card, out)
            last = self.interactions(first_id + i, card, out)
            out.clients.append(self.client_row(first_id + i, card, staff.get(i, 0), last))
        return out

    def card(self, client_id: int) -> Card:
        r = self.r
        owner = r.choice(self.managers) if self.managers and r.random() < 0.97 else None
        card = self.company() if (client_id - self.base) % 5 == 0 else self.person()
        card.owner_id, card.stage = owner, r.choice(w.STAGES)
        card.source = r.choice(w.SOURCES) if r.random() < 0.85 else ""
        if r.random() < 0.6:
            card.address = (
                f"г. {r.choice(w.CITIES).replace('_', ' ')}, "
                f"ул. {r.choice(w.STREETS)}, д. {r.randint(1, 120)}"
            )
        card.description = "Пришёл по рекомендации" if r.random() < 0.05 else ""
        return card

    def person(self) -> Card:
        r = self.r
        if r.random() < 0.03:
            first, last = r.choice(w.LATIN).split(":")
            return Card("person", last_name=last, first_name=first)
        male = r.random() < 0.5
        last = r.choice(self.surnames)
        middle = r.choice(self.patronymics) if r.random() < 0.9 else ""
        card = Card(
            "person",
            last_name=last if male else female_surname(last),
            first_name=r.choice(self.male if male else self.female),
            middle_name=middle if male or not middle else middle[:-2] + "на",
        )
        if r.random() < 0.7:
            card.birthday = self.now // w.DAY - r.randint(18 * 365, 75 * 365)
        return card

    def company(self) -> Card:
        r = self.r
        region = r.choice(w.REGIONS) + f"{r.randint(1, 50):02d}"
        year = f"{r.randint(2, 23):02d}"
        if r.random() < 0.2:
            head = region + f"{r.randint(0, 999999):06d}"
            ogrn = f"3{year}{head[:2]}{r.randint(0, 10**9 - 1):09d}"
            while int(ogrn) % 13 > 9:  # the check digit is the remainder mod 13: keep one digit
                ogrn = f"3{year}{head[:2]}{r.randint(0, 10**9 - 1):09d}"
            name = f"{r.choice(self.surnames)} {r.choice(self.male)} {r.choice(self.patronymics)}"
            return Card(
                "company",
                company_name=name,
                legal_form="ИП",
                inn=inn12(head),
                ogrn=ogrn + str(int(ogrn) % 13),
            )
        brand = r.choice(w.BRAND_A) + r.choice(w.BRAND_B).lower()
        inn = inn10(region + f"{r.randint(0, 99999):05d}")
        ogrn = f"1{year}{region[:2]}{r.randint(0, 9999999):07d}"
        return Card(
            "company",
            company_name=f"«{brand}»",
            legal_form=r.choice(("ООО", "ООО", "АО")),
            inn=inn,
            kpp=region + "01001",
            ogrn=ogrn + str(int(ogrn) % 11 % 10),
            website=f"https://{translit(brand)}.ru" if r.random() < 0.5 else "",
            company_day=self.now // w.DAY - r.randint(365, 30 * 365),
        )

    def link_people(
        self, first_id: int, cards: list[Card], companies: list[int], out: Chunk
    ) -> dict[int, int]:
        staff: dict[int, int] = {}
        for i, card in enumerate(cards):
            if card.kind != "person" or not companies or self.r.random() > 0.6:
                continue
            company = self.r.choice(companies)
            role = self.r.choice(w.ROLES)
            at = self.ts(self.now - self.r.randint(0, w.YEARS3))
            out.jobs.append(
                (at, at, first_id + i, first_id + company, role, w.ROLE_TITLES[role], True)
            )
            staff[company] = staff.get(company, 0) + 1
        return staff

    def phone(self) -> tuple[str, str]:
        while not w.MOBILE_RE.fullmatch(national := f"9{self.r.randint(0, 10**9 - 1):09d}"):
            continue
        d = national
        raw = self.r.choice(
            (
                f"+7 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}",
                f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",
                f"8{d}",
                f"+7{d}",
            )
        )
        return "+7" + national, raw

    def contacts(self, client_id: int, card: Card, out: Chunk) -> None:
        r = self.r
        phones = [self.phone() for _ in range(r.choice((1, 1, 2)))]
        out.phones.extend(
            (client_id, "mobile" if i == 0 else "work", raw, e164, i)
            for i, (e164, raw) in enumerate(phones)
        )
        emails = [self.email(card, i) for i in range(r.choice((1, 1, 2)))]
        out.emails.extend((client_id, "work", e, i) for i, e in enumerate(emails))
        card.phones, card.emails = [e164 for e164, _raw in phones], emails
        card.primary_phone, card.primary_email = card.phones[0], emails[0]
        card.name = Client.compose_name(cast(Client, card))
        card.tags = r.sample(self.tag_ids, r.choice((0, 0, 1, 1, 2))) if self.tag_ids else []
        out.tags.extend((client_id, t) for t in card.tags)

    def email(self, card: Card, n: int) -> str:
        r = self.r
        if card.kind == "company":
            slug = translit(card.company_name.strip("«»").split()[0])
            return f"{('info', 'sales', 'buh', 'office')[2 * n + r.randint(0, 1)]}@{slug}.ru"
        first, last = translit(card.first_name)[:1], translit(card.last_name).replace(" ", "")
        suffix = str(r.randint(1, 999)) if r.random() < 0.5 else ""
        return (
            f"{first}.{last}{suffix}@{r.choice(w.MAIL)}"
            if n == 0
            else f"{last}.{r.randint(1960, 2005)}@{r.choice(w.MAIL)}"
        )

    def interactions(self, client_id: int, card: Card, out: Chunk) -> int | None:
        per = self.per_client
        count = self.r.randint(0, round(2 * per)) if per else 0
        last = None
        for _ in range(count):
            at = self.now - self.r.randint(0, w.YEARS3)
            last = at if last is None or at > last else last
            out.interactions.append(self.interaction(client_id, card.owner_id, at))
        return last

    def interaction(self, client_id: int, owner: int | None, at: int) -> tuple[Any, ...]:
        r = self.r
        kind = r.choice(w.KINDS)
        author = (
            owner
            if owner and r.random() < 0.7
            else (r.choice(self.managers) if self.managers else None)
        )
        duration = (
            r.randint(20, 1800)
            if kind == "call"
            else (r.randint(1800, 7200) if kind == "meeting" else None)
        )
        direction = r.choice(("in", "out")) if kind in ("call", "email", "message") else ""
        amount, currency, items = None, "", "[]"
        if kind == "purchase":
            picked = [
                (name, r.randint(1, 5), price)
                for name, price in r.sample(w.PRODUCTS, r.randint(1, 3))
            ]
            amount = f"{sum(q * p for _n, q, p in picked)}.00"
            currency = "RUB"
            items = json.dumps(
                [{"name": n, "quantity": str(q), "price": f"{p}.00"} for n, q, p in picked],
                ensure_ascii=False,
            )
        status = (
            r.choice(("open", "in_progress", "resolved", "resolved", "rejected"))
            if kind == "complaint"
            else ""
        )
        result = r.choice(w.RESULTS) if kind == "call" else ""
        subject = r.choice(w.SUBJECTS[kind])
        number = str(r.randint(1000, 99999)) if kind == "purchase" else ""
        when, channel = self.ts(at), r.choice(w.CHANNELS[kind])
        # fmt: off
        return (when, when, None, client_id, kind, when, author, channel, subject, "", direction,
                duration, result, amount, currency, items, status, number)
        # fmt: on

    def client_row(
        self, client_id: int, card: Card, staff: int, last: int | None
    ) -> tuple[Any, ...]:
        score = completeness.score(
            cast(Client, card), self.weights[card.kind], tags=card.tags, staff=staff
        )
        search = search_text(cast(Client, card), card.phones, card.emails)
        created = self.ts(self.now - self.r.randint(w.YEARS3, w.YEARS3 + 365 * w.DAY))
        contact = None if last is None else self.ts(last)
        c = card
        # fmt: off
        return (client_id, created, created, None, 1, c.kind, c.name, c.last_name, c.first_name,
                c.middle_name, c.company_name, c.legal_form, c.inn, c.kpp, c.ogrn,
                self.day(c.birthday), self.day(c.company_day), c.website, c.address, c.description,
                c.owner_id, c.source, c.stage, "", "", "{}", c.primary_phone, c.primary_email,
                score, contact, search, None)
        # fmt: on

    def ts(self, epoch: int) -> dt.datetime | str:
        """A UTC time as stored: an aware datetime for COPY, Django's text for SQLite."""
        if self.postgres:
            return dt.datetime.fromtimestamp(epoch, dt.UTC)
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))

    def day(self, ordinal: int | None) -> dt.date | str | None:
        if ordinal is None:
            return None
        day = dt.date(1970, 1, 1) + dt.timedelta(days=ordinal)
        return day if self.postgres else day.isoformat()
