"""`like`: a plain SQL LIKE with a caller-built, escaped pattern.

Django's `contains` casts the column (`::text` on PostgreSQL) and `icontains` wraps it in
UPPER(), so neither uses a trigram index; search columns are stored case-folded and use this.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Lookup, TextField


class Like(Lookup):
    lookup_name = "like"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        escape = " ESCAPE '\\'" if connection.vendor == "sqlite" else ""
        return f"{lhs} LIKE {rhs}{escape}", [*lhs_params, *rhs_params]


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


CharField.register_lookup(Like)
TextField.register_lookup(Like)
