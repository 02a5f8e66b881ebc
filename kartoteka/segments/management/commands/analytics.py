"""`kartoteka analytics abc|xyz|rfm [--from YYYY-MM-DD --to YYYY-MM-DD] [--json]`, and
`kartoteka analytics recompute [--json]` (what the nightly job does, now).

abc/xyz/rfm print the classes over the given days (both included; the configured window of
complete months when left out) without storing anything: `[{"client_id": 1, "external_id":
"…", "class": "A"}]`. XYZ periods are the calendar months between the dates, a month without
revenue counting as zero; a client with too few months is listed with "class": null. RFM
recency is counted back from --to.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kartoteka.clients.models import Client
from kartoteka.segments import dashboard_tallies, measures
from kartoteka.segments.config import current, dates_window, default_window
from kartoteka.segments.recompute import classes_of, recompute


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "ABC, XYZ and RFM classes of the clients, and their recompute."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("measure", choices=["abc", "xyz", "rfm", "recompute"])
        parser.add_argument("--from", dest="start", type=_date)
        parser.add_argument("--to", dest="end", type=_date)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["measure"] == "recompute":
            run = recompute()
            run["dashboard_cells"] = dashboard_tallies.refresh()
            self.stdout.write(json.dumps(run) if options["json"] else _summary(run))
            return
        rows = classes(options["measure"], options["start"], options["end"])
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False))
            return
        for row in rows:
            self.stdout.write(f"{row['client_id']}\t{row['external_id']}\t{row['class'] or '-'}")


def _summary(run: dict[str, Any]) -> str:
    return (
        f"{run['clients']} clients, {run['with_purchases']} with purchases, "
        f"{run['changes']} changes, {run['seconds']['total']} s"
    )


def classes(measure: str, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    config = current()
    if (start is None) != (end is None):
        raise CommandError("give both --from and --to, or neither")
    if start is not None and end is not None:
        if end < start:
            raise CommandError("--to is before --from")
        window = dates_window(start, end)
    else:
        window = default_window(config, timezone.now())
    as_of = window.bounds()[1]
    found = classes_of(measures.purchase_figures(config.currency, window, as_of), window, config)
    chosen: dict[int, str | None]
    if measure == "abc":
        chosen = dict(found.abc)
    elif measure == "xyz":
        chosen = {k: found.xyz.get(k) for k in found.cv}
    else:
        chosen = dict(found.rfm)
    external = dict(Client.objects.values_list("id", "external_id").iterator(20000))
    return [
        {"client_id": pk, "external_id": external.get(pk, ""), "class": chosen[pk]}
        for pk in sorted(chosen)
    ]
