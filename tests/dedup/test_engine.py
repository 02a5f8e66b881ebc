"""The matching engine: each kind of duplicate is found, each hard negative is kept apart."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kartoteka.clients.validators import normalize_phone
from kartoteka.dedup import engine, normalize
from kartoteka.dedup.engine import Record, compare, prepare

MOBILE = "+79161234567"


def p(**fields) -> engine.Prepared:
    fields.setdefault("kind", "person")
    fields.setdefault("id", 0)
    return prepare(Record(**fields))


def same(a, b) -> bool:
    return compare(a, b) is not None


IVAN = dict(last_name="Рябов", first_name="Иван", middle_name="Петрович", birthday="1980-05-17")


# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spellings",
    [
        ("Щукин", "Shchukin", "Schukin", "SHCHUKIN"),
        ("Юлия", "Yuliya", "Iuliia", "Julia", "Yulia"),
        ("Фёдор", "Федор", "Fyodor", "Fedor"),
        ("Алексей", "Alexey", "Aleksei", "Aleksey"),
        ("Хохлов", "Khokhlov", "Hohlov"),
        ("Цветков", "Tsvetkov", "Cvetkov"),
        ("Васильевич", "Vasilyevich", "Vasilievich"),
    ],
)
def test_transliteration_schemes_meet(spellings):
    assert len({normalize.name_key(s) for s in spellings}) == 1


@pytest.mark.parametrize(
    "name",
    [
        "ООО «Ромашка»",
        'OOO "Romashka"',
        "Общество с ограниченной ответственностью «Ромашка»",
        "«Ромашка»",
        "Ромашка, ООО",
        "ромашка llc",
    ],
)
def test_legal_forms_are_stripped_in_any_spelling(name):
    assert normalize.company_key(name) == "romaska"


def test_a_bare_legal_form_is_no_name():
    assert normalize.company_key("ООО") == ""


def test_invalid_inn_proves_nothing():
    assert normalize.valid_inn("7707083893") == "7707083893"
    assert normalize.valid_inn("7707083890") == ""


# --- duplicates -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["8 (916) 123-45-67", "+7 916 123 45 67", "9161234567"])
def test_phone_in_any_format(typed):
    a = p(**IVAN, phones=[MOBILE])
    b = p(last_name="Рябов", first_name="Иван", phones=[normalize_phone(typed)])
    match = compare(a, b)
    assert match is not None and "phone" in match.reasons


def test_email_in_another_case_with_spaces():
    a = p(**IVAN, emails=["ivan@example.com"])
    b = p(last_name="Рябов", first_name="Иван", emails=[" Ivan@Example.COM "])
    assert "email" in compare(a, b).reasons


def test_latin_name_of_a_cyrillic_client():
    a = p(**IVAN, phones=[MOBILE])
    b = p(last_name="Ryabov", first_name="Ivan", middle_name="Petrovich", phones=[MOBILE])
    assert "transliteration" in compare(a, b).reasons


def test_first_and_last_name_swapped():
    a = p(**IVAN, phones=[MOBILE])
    b = p(last_name="Иван", first_name="Рябов", phones=[MOBILE])
    assert "names_swapped" in compare(a, b).reasons


@pytest.mark.parametrize("last", ["Рябоф", "Рабов", "Ряббов", "Рбяов"])
def test_typos_in_the_name(last):
    a = p(**IVAN)
    b = p(last_name=last, first_name="Иван", middle_name="Петрович", birthday="1980-05-17")
    assert same(a, b)


def test_same_inn_of_a_person():
    a = p(**IVAN, inn="500100732259")
    b = p(last_name="Рябов", first_name="Иван", inn="500100732259")
    assert "inn" in compare(a, b).reasons


@pytest.mark.parametrize(
    "other",
    ['OOO "Romashka"', "Общество с ограниченной ответственностью «Ромашка»", "«Ромашка»"],
)
def test_company_with_its_legal_form_spelt_otherwise(other):
    a = p(kind="company", company_name="«Ромашка»", legal_form="ООО", inn="7707083893")
    b = p(kind="company", company_name=other, inn="7707083893")
    assert "company_name" in compare(a, b).reasons


def test_company_found_by_phone_without_inn():
    a = p(kind="company", company_name="«Ромашка»", phones=["+74951112233"])
    b = p(kind="company", company_name='OOO "Romashka"', phones=["+74951112233"])
    assert same(a, b)


# --- hard negatives ---------------------------------------------------------------------------


def test_two_valid_inns_are_two_clients_whatever_else_matches():
    a = p(**IVAN, inn="500100732259", phones=[MOBILE], emails=["i@x.ru"])
    b = p(**IVAN, inn="773370857141", phones=[MOBILE], emails=["i@x.ru"])
    assert not same(a, b)


def test_family_at_one_address_with_one_home_phone():
    home = dict(address="г. Москва, ул. Ленина, д. 5, кв. 7", phones=["+74951112233"])
    husband = p(last_name="Рябов", first_name="Иван", **home)
    wife = p(last_name="Рябова", first_name="Мария", **home)
    son = p(last_name="Рябов", first_name="Пётр", **home)
    daughter = p(last_name="Рябова", first_name="Ирина", **home)
    for x, y in [(husband, wife), (husband, son), (wife, daughter), (son, daughter)]:
        assert not same(x, y)


def test_father_and_son_of_one_name():
    home = dict(address="г. Москва, ул. Ленина, д. 5", phones=["+74951112233"])
    father = p(last_name="Рябов", first_name="Иван", middle_name="Петрович", **home)
    son = p(last_name="Рябов", first_name="Иван", middle_name="Иванович", **home)
    assert not same(father, son)


def test_husband_and_wife_same_initial():
    a = p(last_name="Лазарев", first_name="Кирилл", phones=[MOBILE])
    b = p(last_name="Лазарева", first_name="Кира", phones=[MOBILE])
    assert not same(a, b)


def test_namesakes_with_other_birthdays_and_phones():
    a = p(**IVAN, phones=[MOBILE])
    b = p(**{**IVAN, "birthday": "1991-02-03"}, phones=["+79035550000"])
    assert not same(a, b)


def test_namesake_companies():
    a = p(
        kind="company",
        company_name="«Ромашка»",
        legal_form="ООО",
        inn="7707083893",
        address="г. Москва, ул. Ленина, д. 5",
        phones=["+74951112233"],
    )
    b = p(
        kind="company",
        company_name="«Ромашка»",
        legal_form="ООО",
        inn="7728168971",
        address="г. Казань, ул. Баумана, д. 1",
        phones=["+78432223344"],
    )
    c = p(
        kind="company",
        company_name="ООО Ромашка",
        address="г. Казань, ул. Баумана, д. 1",
        phones=["+78432223344"],
    )
    assert not same(a, b)
    assert not same(a, c)  # no INN, but another city and other phones


def test_branch_with_its_own_kpp():
    a = p(kind="company", company_name="«Ромашка»", inn="7707083893", kpp="770701001")
    b = p(kind="company", company_name="«Ромашка»", inn="7707083893", kpp="770702001")
    assert not same(a, b)


def test_a_person_is_never_a_company():
    a = p(last_name="Ромашка", phones=[MOBILE])
    b = p(kind="company", company_name="Ромашка", phones=[MOBILE])
    assert not same(a, b)


# --- properties -------------------------------------------------------------------------------

NAMES = st.sampled_from(["Иван", "Мария", "Пётр", "Юлия", "Алексей", "Наталья", "Щукин", "Хохлов"])


@settings(max_examples=60, deadline=None)
@given(last=NAMES, first=NAMES, swap=st.booleans())
def test_compare_is_symmetric_and_a_record_matches_its_transliteration(last, first, swap):
    a = p(last_name=last, first_name=first, phones=[MOBILE])
    from bench.dedup_data import translit

    b = p(
        last_name=translit(first if swap else last, 1),
        first_name=translit(last if swap else first, 1),
        phones=[MOBILE],
    )
    assert same(a, b)
    assert same(b, a)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(NAMES, NAMES), min_size=2, max_size=12))
def test_find_pairs_agrees_with_compare(names):
    prepared = [
        p(id=i + 1, last_name=last, first_name=first, phones=[MOBILE])
        for i, (last, first) in enumerate(names)
    ]
    found = {(x.a, x.b) for x in engine.find_pairs(prepared)}
    expected = {
        (x.id, y.id) for i, x in enumerate(prepared) for y in prepared[i + 1 :] if same(x, y)
    }
    assert found == expected


def test_dismissed_pairs_are_skipped_and_clusters_join():
    a, b, c = (p(id=i, **IVAN, phones=[MOBILE]) for i in (1, 2, 3))
    assert {(x.a, x.b) for x in engine.find_pairs([a, b, c], skip=[(2, 1)])} == {(1, 3), (2, 3)}
    assert set(engine.clusters(engine.find_pairs([a, b, c])).values()) == {1}


# --- what FEBRL's corruptions taught (rules that hold for any client base) --------------------


def test_a_surname_changed_on_marriage():
    before = p(
        last_name="Соколова", first_name="Анна", middle_name="Игоревна", birthday="1990-03-04"
    )
    after = p(last_name="Рябова", first_name="Anna", birthday="1990-03-04", phones=[MOBILE])
    assert (
        "surname_changed"
        in compare(dataclasses.replace(before, phones=frozenset([MOBILE])), after).reasons
    )


def test_another_surname_without_the_same_birthday_or_document_is_another_person():
    a = p(last_name="Соколова", first_name="Анна", phones=[MOBILE], address="Ленина 5 кв 7")
    b = p(last_name="Рябова", first_name="Анна", phones=[MOBILE], address="Ленина 5 кв 7")
    assert not same(a, b)
    c = p(last_name="Соколова", first_name="Анна", middle_name="Игоревна", birthday="1990-03-04")
    d = p(last_name="Рябова", first_name="Анна", middle_name="Петровна", birthday="1990-03-04")
    assert not same(c, d)  # another patronymic: another woman


def test_a_document_number_one_typo_away_with_the_same_name():
    a = p(**IVAN, passport="4510 123456")
    b = p(**{**IVAN, "birthday": ""}, passport="4510 123465")
    assert "passport_close" in compare(a, b).reasons


def test_an_address_with_a_part_left_out_is_similar():
    full = "г. Москва, р-н Хамовники, ул. Льва Толстого, д. 16, кв. 4"
    short = "г. Москва, ул. Льва Толстого, д. 16, кв. 4"
    sim = engine._address_sim(normalize.address_key(full), normalize.address_key(short))
    assert sim is not None and sim >= 0.85


def test_every_reason_the_engine_gives_has_a_label():
    import inspect
    import re

    from kartoteka.dedup.labels import REASONS

    given = set(re.findall(r'reasons\.append\("(\w+)"\)', inspect.getsource(engine)))
    given |= set(
        re.findall(r'"(company_name(?:_similar)?|name(?:_similar)?)"', inspect.getsource(engine))
    )
    assert given and given <= REASONS.keys(), given - REASONS.keys()
