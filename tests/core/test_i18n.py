"""Translations: the Russian catalog is complete, the compiled .mo matches it, pages follow it."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import kartoteka

LOCALE = Path(kartoteka.__file__).resolve().parent / "locale"
RU_PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : "
    "n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)
# %(name)s, %(n)d, %s, %%: the conversions Python's % operator understands.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")$")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def label(self) -> str:
        return repr(self.msgid)


def parse_po(path: Path) -> list[Entry]:
    """A small PO reader: enough for the files xgettext and msgmerge write."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None

    def begin() -> Entry:
        nonlocal entry
        if entry is None:
            entry = Entry()
            entries.append(entry)
        return entry

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            entry, target = None, None
            continue
        if line.startswith("#~"):
            begin().obsolete = True
            continue
        if line.startswith("#,"):
            begin().flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if line.startswith("#"):
            continue
        current = begin()
        if line.startswith('"'):
            assert target is not None, f"{path}:{number}: continuation without a keyword"
            text = ast.literal_eval(line)
            key, index = target
            if key == "msgstr":
                current.msgstr[index] += text
            else:
                setattr(current, key, getattr(current, key) + text)
            continue
        match = KEYWORD.match(line)
        assert match, f"{path}:{number}: cannot read {raw!r}"
        key, index, quoted = match.groups()
        text = ast.literal_eval(quoted)
        if key == "msgstr":
            target = ("msgstr", int(index or 0))
            current.msgstr[target[1]] = text
        else:
            target = (key, 0)
            setattr(current, key, text)
    return entries


def catalog(path: Path) -> tuple[Entry, list[Entry]]:
    entries = [e for e in parse_po(path) if not e.obsolete]
    headers = [e for e in entries if e.msgid == "" and e.msgctxt is None]
    assert len(headers) == 1, f"{path}: expected one header entry"
    return headers[0], [e for e in entries if e is not headers[0]]


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def expected_mo_catalog(path: Path) -> dict[object, str]:
    """What msgfmt puts in the .mo: translated, non-fuzzy entries and the header."""
    header, entries = catalog(path)
    expected: dict[object, str] = {"": header.msgstr[0]}
    for entry in entries:
        if "fuzzy" in entry.flags or not all(entry.msgstr.values()):
            continue
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            expected[msgid] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                expected[(msgid, index)] = text
    return expected


def header_fields(header: str) -> dict[str, str]:
    fields = dict(line.split(":", 1) for line in header.splitlines() if ":" in line)
    fields.pop("POT-Creation-Date", None)
    return {key.strip(): value.strip() for key, value in fields.items()}


def load_mo(path: Path) -> gettext.GNUTranslations:
    with path.open("rb") as fp:
        return gettext.GNUTranslations(fp)


RU_PO = LOCALE / "ru" / "LC_MESSAGES" / "django.po"
EN_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"


def test_russian_header_declares_three_plural_forms():
    header, _ = catalog(RU_PO)
    assert "fuzzy" not in header.flags
    fields = header_fields(header.msgstr[0])
    assert fields["Language"] == "ru"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert fields["Plural-Forms"] == RU_PLURAL_FORMS


def test_every_russian_entry_is_translated_and_not_fuzzy():
    _, entries = catalog(RU_PO)
    assert len(entries) > 100, "the catalog looks empty: run `make messages`"
    fuzzy = [e.label for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    untranslated = [e.label for e in entries if not e.msgstr or not all(e.msgstr.values())]
    assert not untranslated, f"untranslated entries: {untranslated}"
    short = [e.label for e in entries if e.msgid_plural is not None and len(e.msgstr) != 3]
    assert not short, f"plural entries without all three Russian forms: {short}"


def test_russian_keeps_every_placeholder():
    _, entries = catalog(RU_PO)
    wrong = []
    for entry in entries:
        if entry.msgid_plural is None:
            sources = {0: entry.msgid}
        else:
            # Form 0 (1, 21, 31…) may follow either English form; the others the plural.
            sources = {i: entry.msgid_plural for i in entry.msgstr}
        for index, text in entry.msgstr.items():
            if "python-format" in entry.flags:
                if placeholders(text) != placeholders(sources[index]) and not (
                    index == 0 and placeholders(text) == placeholders(entry.msgid)
                ):
                    wrong.append((entry.label, index, text))
            elif "%" in text and "%" not in entry.msgid:
                wrong.append((entry.label, index, text))  # a stray % would break formatting
    assert not wrong, f"placeholders differ: {wrong}"


def test_english_catalog_is_the_source_language():
    header, entries = catalog(EN_PO)
    assert "fuzzy" not in header.flags
    assert not [e.label for e in entries if "fuzzy" in e.flags]
    assert not [e.label for e in entries if any(e.msgstr.values())]
    ru_ids = {(e.msgctxt, e.msgid) for e in catalog(RU_PO)[1]}
    assert {(e.msgctxt, e.msgid) for e in entries} == ru_ids


@pytest.mark.parametrize("language", ["ru", "en"])
def test_compiled_catalog_matches_the_po(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `kartoteka compilemessages`"
    compiled = dict(load_mo(mo)._catalog)
    expected = expected_mo_catalog(po)
    # Newer msgfmt leaves POT-Creation-Date out of the compiled header.
    assert header_fields(compiled.pop("")) == header_fields(expected.pop("")), f"{mo} is stale"
    assert compiled == expected, f"{mo} is stale: run `kartoteka compilemessages`"


@pytest.mark.parametrize("language", ["ru", "en"])
def test_compiled_catalog_matches_msgfmt(language, tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext (msgfmt) is not installed")
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check", "-o", str(fresh), str(po)], check=True, timeout=60)  # noqa: S603
    committed = load_mo(po.with_suffix(".mo"))
    assert committed._catalog == load_mo(fresh)._catalog, f"{language} .mo is stale: recompile"


def test_russian_plurals_pick_the_right_form():
    ru = load_mo(RU_PO.with_suffix(".mo"))
    forms = {
        n: ru.ngettext("%(counter)s interaction", "%(counter)s interactions", n) % {"counter": n}
        for n in (1, 2, 5, 11, 21, 22, 25, 111)
    }
    assert forms == {
        1: "1 взаимодействие",
        2: "2 взаимодействия",
        5: "5 взаимодействий",
        11: "11 взаимодействий",
        21: "21 взаимодействие",
        22: "22 взаимодействия",
        25: "25 взаимодействий",
        111: "111 взаимодействий",
    }


def test_pages_follow_accept_language(alice_client):
    ru = alice_client.get("/clients/", HTTP_ACCEPT_LANGUAGE="ru")
    assert ru.status_code == 200
    assert "Клиенты" in ru.text
    assert ru["Content-Language"] == "ru"

    en = alice_client.get("/clients/", HTTP_ACCEPT_LANGUAGE="en")
    assert en.status_code == 200
    assert "Clients" in en.text
    assert "Клиенты" not in en.text
    assert en["Content-Language"] == "en"


def test_profile_language_wins_over_the_browser(alice, alice_client):
    alice.language = "en"
    alice.save(update_fields=["language"])
    response = alice_client.get("/clients/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    assert "Clients" in response.text
    assert "Клиенты" not in response.text
