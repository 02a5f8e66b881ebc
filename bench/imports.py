"""`python -m bench.imports [--rows N] [--db sqlite,postgresql]`: the persons-import figures.

A deterministic CSV of N persons (UTF-8 with a BOM and semicolons, as Excel writes it; phones
in mixed formats, e-mails, INNs, birthdays; 0.5 % bad rows, 1 % repeated phones) is imported
into a fresh database by `kartoteka.transfer.importer` (valid rows kept, duplicates skipped),
and, in the same run, loaded raw: the same file, csv.reader to tuples to COPY / executemany
into the same tables, no validation. Each run is its own process, so its peak memory is its own.
Prints a Markdown table; writes var/bench-import-results.json.
"""

from __future__ import annotations

import os
import random
from collections import deque
from pathlib import Path
from typing import Any

from bench.databases import VAR, Target
from bench.runner import each_target, publish, run_worker, target_parser

CODES = [*range(900, 930), *range(950, 1000)]  # mobile codes valid in every block
HEADER = "Фамилия;Имя;Отчество;Телефон;Мобильный;E-mail;ИНН;Дата рождения;Город\n"


def _inn(r: random.Random) -> str:
    digits = [r.randint(0, 9) for _ in range(10)]
    for weights in ((7, 2, 4, 10, 3, 5, 9, 4, 6, 8), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)):
        digits.append(sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10)
    return "".join(map(str, digits))


def _digits(r: random.Random, n: int) -> tuple[int, int, int, int]:
    return r.choice(CODES), n % 1000, n // 1000 % 100, n // 100000 % 100


def _phone(r: random.Random, digits: tuple[int, int, int, int]) -> str:
    """The number in one of the formats people type."""
    code, a, b, c = digits
    return r.choice(
        (
            f"+7 ({code}) {a:03d}-{b:02d}-{c:02d}",
            f"8 {code} {a:03d} {b:02d} {c:02d}",
            f"8{code}{a:03d}{b:02d}{c:02d}",
            f"{code}-{a:03d}-{b:02d}-{c:02d}",
            f"+7{code}{a:03d}{b:02d}{c:02d}",
        )
    )


def generate(path: Path, rows: int, seed: int = 7) -> None:
    from kartoteka.clients import demo_words as w
    from kartoteka.clients.demo_rows import translit

    r = random.Random(seed)
    recent: deque[tuple[int, int, int, int]] = deque(maxlen=8)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write(HEADER)
        for n in range(rows):
            male = r.random() < 0.5
            last = r.choice(w.SURNAMES) + ("" if male else "а")
            first = r.choice(w.MALE if male else w.FEMALE)
            middle = r.choice(w.PATRONYMIC)
            # 1 % repeat a recent row's number, written another way: a duplicate to skip.
            digits = recent[0] if r.random() < 0.01 and recent else _digits(r, n)
            recent.append(digits)
            phone = _phone(r, digits)
            mobile = _phone(r, _digits(r, n + 10_000_000)) if r.random() < 0.3 else ""
            email = f"{translit(last)}.{n}@{r.choice(w.MAIL)}" if r.random() < 0.8 else ""
            inn = _inn(r) if r.random() < 0.5 else ""
            born = f"{r.randint(1, 28):02d}.{r.randint(1, 12):02d}.{r.randint(1950, 2004)}"
            if r.random() < 0.005:
                phone, born = "12-34", "31.02.1990"  # a bad row
            city = r.choice(w.CITIES)
            out.write(f"{last};{first};{middle};{phone};{mobile};{email};{inn};{born};{city}\n")


def _run(target: Target, mode: str, csv_path: Path) -> dict[str, Any]:
    var = str(VAR / "bench-import-var")
    command = ["-m", "bench.import_worker", mode, str(csv_path)]
    return run_worker(target, command, KARTOTEKA_VAR_DIR=var)


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | rows | import s | import rows/s | created | skipped | rejected "
        "| peak MB | raw load s | raw rows/s | raw peak MB | import/raw time |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        i, raw = r["import"], r["raw"]
        lines.append(
            f"| {r['label']} | {i['rows']:,} | {i['seconds']:.1f} "
            f"| {i['rows'] / i['seconds']:,.0f} "
            f"| {i['created']:,} | {i['skipped']:,} | {i['rejected']:,} | {i['peak_mb']:,.0f} "
            f"| {raw['seconds']:.1f} | {raw['rows'] / raw['seconds']:,.0f} | {raw['peak_mb']:,.0f} "
            f"| {i['seconds'] / raw['seconds']:.1f}× |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = target_parser("imports", __doc__, "import", db="sqlite,postgresql", worker=False)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    import django

    django.setup()
    csv_path = VAR / f"bench-import-{args.rows}.csv"
    if not csv_path.exists():
        generate(csv_path, args.rows)

    def measure(target: Target) -> dict[str, Any]:
        raw = _run(target, "raw", csv_path)
        return {"import": _run(target, "import", csv_path), "raw": raw}

    results = each_target(args.db, args.sqlite_path, args.pg_url, measure)
    publish("import", f"Import bench, {args.rows:,} rows", markdown(results), results)


if __name__ == "__main__":
    main()
