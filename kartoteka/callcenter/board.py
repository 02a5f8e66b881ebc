"""The supervisor's board, live: the board's HTML for the SSE stream of callcenter/live.py.

The browser ticks the time-in-status counters itself (callcenter/live.js)."""

from __future__ import annotations

from django.template.loader import render_to_string

from kartoteka.callcenter import live, queries
from kartoteka.core.permissions import AnyUser

TEMPLATE = "callcenter/_board_body.html"


def render(user: AnyUser) -> str:
    return render_to_string(TEMPLATE, {"board": queries.board(user)})


def pacer(user: AnyUser) -> live.Pacer:
    return live.Pacer("board", lambda: render(user))
