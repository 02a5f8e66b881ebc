"""Folding what people type into comparable keys: names, company names, addresses, ids.

Pure functions, no Django: the batch scan calls them a million times, so token results are
cached. Names of both scripts go to one Latin skeleton: Cyrillic is transliterated, then the
spellings that transliteration schemes disagree on (shch/sch/sh, kh/h, ts/tz/c, yu/iu/ju, y/i/j,
x/ks, doubled letters …) are folded the same way on both sides, so Щукин, Shchukin and Schukin,
or Юлия, Yuliya, Iuliia and Julia meet.
"""

from __future__ import annotations

import re
from functools import lru_cache

_LATIN = "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya i i e g"
_CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ", _LATIN.split(), strict=True))
_CYRILLIC["ъ"] = _CYRILLIC["ь"] = ""
_TABLE = str.maketrans({**_CYRILLIC, "'": "", "`": "", "’": ""})
_NOT_WORD = re.compile(r"[^a-z0-9]+")
# Applied in order to each Latin token: every scheme's spelling of a sound ends up the same.
_RULES = (
    ("shch", "s"),
    ("sch", "s"),
    ("shh", "s"),
    ("sh", "s"),
    ("tch", "c"),
    ("ch", "c"),
    ("zh", "z"),
    ("kh", "h"),
    ("ts", "c"),
    ("tz", "c"),
    ("x", "ks"),
    ("ph", "f"),
    ("w", "v"),
    ("q", "k"),
    ("ck", "k"),
    ("yu", "u"),
    ("iu", "u"),
    ("ju", "u"),
    ("ii", "i"),
    ("yo", "e"),
    ("jo", "e"),
    ("ya", "a"),
    ("ia", "a"),
    ("ja", "a"),
    ("ye", "e"),
    ("je", "e"),
    ("ie", "e"),
    ("y", "i"),
    ("j", "i"),
)
_DOUBLE = re.compile(r"(.)\1+")
_VOWELS = str.maketrans("", "", "aeiou")

# Legal forms in any spelling; after folding, a long form is a run of skeleton tokens.
_FORMS_SHORT = (
    "ооо ооо оао зао пао ао нао нко ано ип чп гуп муп фгуп тсж снт нп ук пк кфх тоо "
    "llc ltd inc jsc ojsc cjsc pjsc gmbh corp co plc"
)
_FORMS_LONG = (
    "общество с ограниченной ответственностью",
    "открытое акционерное общество",
    "закрытое акционерное общество",
    "публичное акционерное общество",
    "непубличное акционерное общество",
    "акционерное общество",
    "индивидуальный предприниматель",
    "автономная некоммерческая организация",
    "некоммерческая организация",
    "государственное унитарное предприятие",
    "муниципальное унитарное предприятие",
    "федеральное государственное унитарное предприятие",
    "limited liability company",
    "joint stock company",
)


def latin(text: str) -> str:
    """Lower case, ё as е, Cyrillic transliterated; anything but letters and digits is a space."""
    return _NOT_WORD.sub(" ", text.lower().translate(_TABLE)).strip()


@lru_cache(maxsize=500_000)
def skeleton(token: str) -> str:
    """One Latin token in the folded form every transliteration scheme shares."""
    for old, new in _RULES:
        if old in token:
            token = token.replace(old, new)
    return _DOUBLE.sub(r"\1", token)


@lru_cache(maxsize=500_000)
def name_key(text: str) -> str:
    """A name part (one or more words) as skeleton tokens joined by spaces."""
    return " ".join(skeleton(t) for t in latin(text).split())


def consonants(key: str) -> str:
    """A skeleton without its vowels (but its first letter): a key that survives vowel typos."""
    return key[:1] + key[1:].translate(_VOWELS).replace(" ", "")


def _long_forms() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(name_key(form).split()) for form in _FORMS_LONG)


_SHORT = frozenset(name_key(f) for f in _FORMS_SHORT.split())
_LONG = _long_forms()


@lru_cache(maxsize=200_000)
def company_key(name: str, legal_form: str = "") -> str:
    """A company name without its legal form, quotes or punctuation, as skeleton tokens."""
    tokens = name_key(name).split()
    changed = True
    while changed and tokens:
        changed = False
        for form in _LONG:
            n = len(form)
            for at in (0, len(tokens) - n):
                if at >= 0 and tuple(tokens[at : at + n]) == form:
                    del tokens[at : at + n]
                    changed = True
                    break
        if tokens and tokens[0] in _SHORT:
            tokens.pop(0)
            changed = True
        if tokens and tokens[-1] in _SHORT:
            tokens.pop()
            changed = True
    return " ".join(tokens)


def address_key(text: str) -> str:
    """An address folded for comparison: words and numbers, abbreviations of street kinds gone."""
    words = latin(text).split()
    return " ".join(skeleton(w) for w in words if w not in _ADDRESS_NOISE)


_ADDRESS_NOISE = frozenset(
    latin("г ул д кв пр пр-т просп пер ш наб пл б-р корп стр город улица дом квартира")
    .replace("-", " ")
    .split()
)


_NOT_DIGIT = re.compile(r"\D+")


def digits(text: str) -> str:
    return text if text.isdecimal() and text.isascii() else _NOT_DIGIT.sub("", text)


_INN_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_check(value: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(value, weights, strict=False)) % 11 % 10)


def valid_inn(value: str) -> str:
    """The INN if its check digits match, else "" (an invalid INN proves nothing either way)."""
    value = digits(value)
    if len(value) == 10 and value[9] == _inn_check(value, _INN_WEIGHTS[2:]):
        return value
    if (
        len(value) == 12
        and value[10] == _inn_check(value, _INN_WEIGHTS[1:])
        and value[11] == _inn_check(value, _INN_WEIGHTS)
    ):
        return value
    return ""


def clean_email(text: str) -> str:
    return "".join(text.split()).lower()
