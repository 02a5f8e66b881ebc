"""Cell values as people and accounting systems write them: dates, numbers, choices, names.

Each parser takes a cell (text from a CSV, or a typed value from a spreadsheet) and returns the
stored form or raises `Problem` with a message for the user.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import TextChoices
from django.utils import timezone, translation
from django.utils.translation import gettext as _


class Problem(ValueError):
    """A cell that cannot be stored; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01 (with Excel's phantom 1900-02-29)
_SERIAL_RANGE = (1, 2_958_465)  # Excel's 1900-01-01 … 9999-12-31
_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y.%m.%d", "%d.%m.%y")
_TIME_FORMATS = ("%H:%M:%S", "%H:%M")
_SPACES = str.maketrans("", "", " \u00a0\u2009\u202f'")
_CURRENCY_RE = re.compile(r"(?i)(?:руб\.?|р\.|₽|rub|usd|eur|\$|€)$")


def text(value: Any, limit: int) -> str:
    result = value.strip() if isinstance(value, str) else _plain(value)
    if len(result) > limit:
        raise Problem(_("At most %(n)d characters.") % {"n": limit})
    return result


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a spreadsheet's 79161234567.0 is a phone, not a float
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def date(value: Any) -> dt.date:
    """A date from dd.mm.yyyy, ISO, dd/mm/yyyy, an Excel serial number or a spreadsheet date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(value)
    raw = str(value).strip()
    if raw.isdigit() and len(raw) <= 7:
        return _serial(int(raw))
    if len(raw) == 10 and (found := _plain_date(raw)) is not None:
        return found
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(raw[:10], fmt).date()
        except ValueError:
            continue
    raise Problem(_("%(value)s is not a date (use dd.mm.yyyy or yyyy-mm-dd).") % {"value": raw})


def _plain_date(raw: str) -> dt.date | None:
    """dd.mm.yyyy or yyyy-mm-dd without strptime, which costs 25 µs a call."""
    try:
        if raw[2] == "." and raw[5] == ".":
            return dt.date(int(raw[6:]), int(raw[3:5]), int(raw[:2]))
        if raw[4] == "-" and raw[7] == "-":
            return dt.date(int(raw[:4]), int(raw[5:7]), int(raw[8:]))
    except ValueError:
        return None
    return None


def _serial(number: float) -> dt.date:
    if not _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]:
        raise Problem(_("%(value)s is not a date.") % {"value": number})
    return EXCEL_EPOCH + dt.timedelta(days=int(number))


def moment(value: Any) -> dt.datetime:
    """An aware date and time; a bare date is midnight, naive times are in the server's zone."""
    if isinstance(value, dt.datetime):
        found = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        day = _serial(value)
        found = dt.datetime.combine(day, dt.time()) + dt.timedelta(days=float(value) % 1)
    else:
        found = _moment_text(str(value).strip())
    if timezone.is_naive(found):
        found = timezone.make_aware(found)
    return found


def _moment_text(raw: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(raw)
    except ValueError:
        pass
    day_part, _sep, time_part = raw.partition(" ")
    day = date(day_part)
    if not time_part.strip():
        return dt.datetime.combine(day, dt.time())
    for fmt in _TIME_FORMATS:
        try:
            clock = dt.datetime.strptime(time_part.strip(), fmt).time()
        except ValueError:
            continue
        return dt.datetime.combine(day, clock)
    raise Problem(_("%(value)s is not a date and time.") % {"value": raw})


def number(value: Any, *, places: int = 2, limit: Decimal = Decimal("1e12")) -> Decimal:
    """A decimal from 1 234,56 / 1,234.56 / 1234.56 ₽ / a spreadsheet number."""
    if isinstance(value, bool):
        raise Problem(_("Enter a number."))
    if isinstance(value, int | float):
        raw = repr(value)
    else:
        raw = _CURRENCY_RE.sub("", str(value).translate(_SPACES)).strip()
        if "," in raw and "." in raw:  # the last one is the decimal point
            thousands = "," if raw.rfind(",") < raw.rfind(".") else "."
            raw = raw.replace(thousands, "").replace(",", ".")
        elif raw.count(",") == 1:
            raw = raw.replace(",", ".")
        else:
            raw = raw.replace(",", "")
    try:
        result = Decimal(raw)
    except InvalidOperation:
        raise Problem(_("%(value)s is not a number.") % {"value": str(value)[:40]}) from None
    if not result.is_finite() or abs(result) >= limit:
        raise Problem(_("%(value)s is not a number.") % {"value": str(value)[:40]})
    return result.quantize(Decimal(1).scaleb(-places))


def seconds(value: Any) -> int:
    """A duration in seconds from a number or from mm:ss / hh:mm:ss."""
    if isinstance(value, dt.time):
        return value.hour * 3600 + value.minute * 60 + value.second
    raw = str(value).strip()
    if ":" in raw:
        parts = raw.split(":")
        if len(parts) > 3 or not all(p.isdigit() for p in parts):
            raise Problem(_("%(value)s is not a duration.") % {"value": raw[:40]})
        total = 0
        for part in parts:
            total = total * 60 + int(part)
        return total
    result = number(value, places=0)
    if result < 0 or result > 10**7:
        raise Problem(_("%(value)s is not a duration.") % {"value": raw[:40]})
    return int(result)


def choice_map(choices: type[TextChoices]) -> dict[str, str]:
    """Codes and labels, in Russian and in English, folded, to the code they stand for."""
    found = {}
    for language in ("en", "ru"):
        with translation.override(language):
            for code, label in choices.choices:
                found[str(label).lower()] = code
    found.update({str(code).lower(): code for code in choices.values})
    return found


def choice(value: Any, options: dict[str, str]) -> str:
    raw = str(value).strip()
    found = options.get(raw.lower().replace("ё", "е")) or options.get(raw.lower())
    if found is None:
        raise Problem(_("%(value)s is not one of the choices.") % {"value": raw[:60]})
    return found


_PATRONYMIC_RE = re.compile(r"(?i)(вич|вна|чна|оглы|кызы)$")
_CYRILLIC_RE = re.compile(r"[а-яё]", re.IGNORECASE)


def split_name(full: str) -> tuple[str, str, str]:
    """(last, first, middle) from "Иванов Иван Иванович", "Иван Иванович Иванов" or "John Smith"."""
    words = full.split()
    if not words:
        return "", "", ""
    if len(words) == 1:
        return words[0], "", ""
    if len(words) >= 3 and _PATRONYMIC_RE.search(words[1]):
        return " ".join(words[2:]), words[0], words[1]  # first, middle, last
    if _CYRILLIC_RE.search(full):
        return words[0], words[1], " ".join(words[2:])
    return words[-1], " ".join(words[:-1]), ""


LEGAL_FORMS = {
    "общество с ограниченной ответственностью": "ООО",
    "акционерное общество": "АО",
    "публичное акционерное общество": "ПАО",
    "закрытое акционерное общество": "ЗАО",
    "открытое акционерное общество": "ОАО",
    "индивидуальный предприниматель": "ИП",
}
_SHORT_FORMS = ("ООО", "АО", "ПАО", "ЗАО", "ОАО", "ИП", "НКО", "ГУП", "МУП", "LLC", "Ltd", "Inc")
_QUOTES = "«»\"'“”„"


def split_company(full: str) -> tuple[str, str]:
    """(legal form, name) of "ООО «Ромашка»" or "Общество с ограниченной ответственностью …"."""
    text_ = " ".join(full.split())
    lowered = text_.lower()
    for long, short in LEGAL_FORMS.items():
        if lowered.startswith(long + " "):
            return short, text_[len(long) :].strip(_QUOTES + " ")
    head, _sep, rest = text_.partition(" ")
    for short in _SHORT_FORMS:
        if head.strip(",.").lower() == short.lower() and rest.strip(_QUOTES + " "):
            return short, rest.strip(_QUOTES + " ")
    return "", text_.strip(_QUOTES + " ") or text_
