"""What an import did, gathered as it runs: counts, problem rows, a sample, the ids it created."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_PROBLEMS = 1000  # kept on the job; every rejected row also goes to the rejected-rows file
SAMPLE_SIZE = 10


@dataclass
class Outcome:
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)
    created_clients: list[list[int]] = field(default_factory=list)
    created_interactions: list[list[int]] = field(default_factory=list)
    # Receives (row, cells, [(field, message)]) for every rejected row.
    on_reject: Callable[[int, list[Any], list[tuple[str, str]]], None] | None = None

    def reject(self, row: int, cells: list[Any], errors: list[tuple[str, str]]) -> None:
        self.rejected += 1
        for name, message in errors:
            self._note({"row": row, "field": name, "message": message})
        if self.on_reject:
            self.on_reject(row, cells, errors)

    def skip(self, row: int, name: str, message: str) -> None:
        self.skipped += 1
        self._note({"row": row, "field": name, "message": message, "skipped": True})

    def _note(self, problem: dict[str, Any]) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    @property
    def wants_sample(self) -> bool:
        return len(self.sample) < SAMPLE_SIZE

    def show(self, row: int, stored: dict[str, Any]) -> None:
        if len(self.sample) < SAMPLE_SIZE:
            self.sample.append({"row": row, **stored})

    def as_json(self) -> dict[str, Any]:
        """The CLI's and the API's summary."""
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "rejected": [
                {"row": p["row"], "field": p["field"], "message": p["message"]}
                for p in self.problems
                if not p.get("skipped")
            ],
        }


def add_ids(ranges: list[list[int]], ids: Iterable[int]) -> None:
    """Append ids to [first, last] ranges, merging runs of consecutive ids."""
    for pk in ids:
        if ranges and ranges[-1][1] + 1 == pk:
            ranges[-1][1] = pk
        else:
            ranges.append([pk, pk])
