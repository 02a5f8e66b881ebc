"""The fast paths of phone, e-mail and INN validation agree with the libraries they shortcut."""

from __future__ import annotations

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.ru import inn as stdnum_inn

from kartoteka.clients import validators

FORMATS = [
    "+7 ({a}) {b}-{c}-{d}",
    "8{a}{b}{c}{d}",
    "8 ({a}) {b} {c} {d}",
    "7{a}{b}{c}{d}",
    "{a}{b}{c}{d}",
    "+7{a}{b}{c}{d}",
    "+7-{a}-{b}-{c}-{d}",
]


def _library(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "RU")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(FORMATS),
    st.integers(0, 999),
    st.integers(0, 999),
    st.integers(0, 99),
    st.integers(0, 99),
)
def test_fast_phone_path_agrees_with_phonenumbers(fmt, a, b, c, d):
    text = fmt.format(a=f"{a:03d}", b=f"{b:03d}", c=f"{c:02d}", d=f"{d:02d}")
    try:
        ours = validators.normalize_phone(text)
    except ValidationError:
        ours = None
    assert ours == _library(text)


@pytest.mark.parametrize("text", ["9300664090", "9300600685", "+7 930 083 7777", "87012345678"])
def test_fast_phone_path_on_ranges_split_below_five_digits(text):
    try:
        ours = validators.normalize_phone(text)
    except ValidationError:
        ours = None
    assert ours == _library(text)


def test_foreign_and_odd_numbers_take_the_full_parse():
    assert validators.normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert validators.normalize_phone("+7 916 123-45-67 доб. 1") == "+79161234567"
    with pytest.raises(ValidationError):
        validators.normalize_phone("+7 000 000 00 00")


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.integers(10**9, 10**10 - 1), st.integers(10**11, 10**12 - 1)))
def test_inn_checksum_agrees_with_stdnum(number):
    value = str(number)
    try:
        stdnum_inn.validate(value)
        expected = True
    except Exception:
        expected = False
    assert validators.inn_is_valid(value) is expected


@pytest.mark.parametrize(
    "value",
    ["a@b.ru", "User.Name@Example.COM", "a..b@x.ru", ".a@x.ru", "a@-x.ru", "a@x", "имя@пример.рф"],
)
def test_email_fast_path_is_a_subset_of_django(value):
    try:
        ours = validators.normalize_email(value)
    except ValidationError:
        ours = None
    try:
        validate_email(value.strip().lower())
        expected = value.strip().lower()
    except ValidationError:
        expected = None
    assert ours == expected
