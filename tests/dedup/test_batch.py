"""The columnar batch scan: the same keys and pairs as one record at a time, from the database."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kartoteka.dedup import batch, bound, engine, reader
from kartoteka.dedup.engine import Record
from tests.dedup import person

MOBILE = "+79161234567"
WORDS = st.sampled_from(["Иван", "Ivan", "Рябов", "Ryabov", "Щукин", "Мария", "", "О'Нил"])
DAYS = st.sampled_from(["", "1980-05-17", "1980-17-05", "1991-02-03"])
FIRMS = st.sampled_from(["«Ромашка»", 'OOO "Romashka"', "Ромашка, ООО", "Лютик"])


@st.composite
def records(draw: st.DrawFn) -> list[Record]:
    out = []
    for i in range(draw(st.integers(1, 10))):
        company = draw(st.booleans())
        out.append(
            Record(
                id=i * 3 + 1,
                kind="company" if company else "person",
                last_name=draw(WORDS),
                first_name=draw(WORDS),
                middle_name=draw(st.sampled_from(["", "Петрович", "Petrovich"])),
                company_name=draw(FIRMS) if company else "",
                legal_form=draw(st.sampled_from(["", "ООО"])),
                inn=draw(st.sampled_from(["", "7707083893", "7707083890"])),
                birthday=draw(DAYS),
                address=draw(st.sampled_from(["", "г. Москва, ул. Ленина, д. 5", "Lenina 5"])),
                passport=draw(st.sampled_from(["", "4510 123456", "4510 123465", "123"])),
                phones=draw(st.lists(st.sampled_from([MOBILE, "+79035550000"]), max_size=2)),
                emails=draw(st.lists(st.sampled_from(["I@x.ru ", "i@x.ru"]), max_size=2)),
            )
        )
    return out


@settings(max_examples=60, deadline=None)
@given(records())
def test_columns_fold_as_prepare_does(rows):
    table = batch.table_from_raw(batch.Raw.from_records(rows))
    folded = table.prepared(list(range(len(rows))))
    for i, record in enumerate(rows):
        assert folded[i] == engine.prepare(record)


@settings(max_examples=60, deadline=None)
@given(records())
def test_the_bound_never_drops_a_pair_compare_would_join(rows):
    table = batch.table_from_raw(batch.Raw.from_records(rows))
    prepared = [engine.prepare(r) for r in rows]
    expected = {
        (prepared[i].id, prepared[j].id)
        for i, j in batch.candidate_pairs(table).tolist()
        if engine.compare(prepared[i], prepared[j]) is not None
    }
    assert {(x.a, x.b) for x in bound.find_pairs(table)} == expected
    assert {(x.a, x.b) for x in engine.find_pairs(prepared)} == expected


def _candidates(rows: list[Record]) -> set[tuple[int, int]]:
    table = batch.table_from_raw(batch.Raw.from_records(rows))
    ids = table.ids
    return {(int(ids[i]), int(ids[j])) for i, j in batch.candidate_pairs(table).tolist()}


@pytest.mark.parametrize("typed", ["4510 123465", "4510 123457", "4510 128456"])
def test_a_mistyped_document_number_still_meets_the_right_one(typed):
    a = Record(id=1, kind="person", last_name="Рябов", first_name="Иван", passport="4510 123456")
    b = dataclasses.replace(a, id=2, last_name="Ryabov", passport=typed, birthday="1980-05-17")
    assert (1, 2) in _candidates([a, b])


def test_a_phone_of_too_many_clients_proposes_nothing():
    crowd = [
        Record(id=i, kind="person", last_name="Рябов", first_name="Иван", phones=[MOBILE])
        for i in range(1, batch.ID_CAP + 2)
    ]
    assert _candidates(crowd) == set()  # an office's number; the names are too common too
    assert len(_candidates(crowd[: batch.ID_CAP])) == batch.ID_CAP * (batch.ID_CAP - 1) // 2


def test_pairs_that_cannot_reach_the_score_are_dropped_before_compare():
    rows = [
        Record(id=1, kind="person", last_name="Рябов", first_name="Иван", phones=[MOBILE]),
        Record(id=2, kind="person", last_name="Рябова", first_name="Мария", phones=[MOBILE]),
        Record(id=3, kind="person", last_name="Ryabov", first_name="Ivan", phones=[MOBILE]),
        Record(id=4, kind="company", company_name="Рябов", phones=[MOBILE]),
    ]
    table = batch.table_from_raw(batch.Raw.from_records(rows))
    pairs = batch.candidate_pairs(table)
    most_of = dict(zip(map(tuple, pairs.tolist()), bound.upper_bound(table, pairs), strict=True))
    prepared = [engine.prepare(r) for r in rows]
    for (i, j), most in most_of.items():
        match = engine.compare(prepared[i], prepared[j])
        assert match is None or match.score * 10 <= most + 1e-9
    assert most_of[(0, 2)] >= engine.MATCH_POINTS  # Иван Рябов and Ivan Ryabov
    assert most_of[(0, 1)] < engine.MATCH_POINTS and most_of[(0, 3)] == float("-inf")


def test_clients_must_come_in_id_order():
    rows = [Record(id=2, kind="person"), Record(id=1, kind="person")]
    with pytest.raises(ValueError, match="id order"):
        batch.table_from_raw(batch.Raw.from_records(rows))


def test_contacts_of_clients_outside_the_table_are_left_out():
    raw = batch.Raw.from_records([Record(id=5, kind="person", last_name="Рябов")])
    raw.phone_client += [4, 9]
    raw.phone += [MOBILE, MOBILE]
    table = batch.table_from_raw(raw)
    assert len(table.phone_owner) == 0 and np.array_equal(table.ids, [5])


@pytest.mark.django_db
def test_the_reader_reads_live_clients_with_their_contacts_across_chunks(alice):
    made = [
        person(alice, f"Фамилия{i}", "Иван", phones=(f"+7916123456{i}",), emails=(f"{i}@x.ru",))
        for i in range(5)
    ]
    from kartoteka.clients import services as client_services

    client_services.trash_client(None, made[2])
    raw = reader.live_table(chunk=2)
    assert raw.ids == [c.pk for c in made if c.pk != made[2].pk]
    table = batch.table_from_raw(raw)
    got = table.prepared(list(range(len(table))))
    assert [sorted(p.phones) for p in got.values()] == [[f"+7916123456{i}"] for i in (0, 1, 3, 4)]
    assert [sorted(p.emails) for p in got.values()] == [[f"{i}@x.ru"] for i in (0, 1, 3, 4)]
