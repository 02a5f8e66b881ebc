"""The FastAGI "route" handler: Asterisk asks who takes a call before it enters a queue.

    same => n,AGI(agi://kartoteka:4573/route,sales,${CHANNEL(linkedid)})

sets, for the dialplan:
    KT_TARGET     the extension to Dial now, or "" (then Queue() with QUEUE_PRIO)
    QUEUE_PRIO    the call's priority in the queue (ABC class, VIP, escalation)
    KT_CLIENT_ID  the client found by the caller's number, or ""
    KT_ROUTE      "operator", "queue", or "error" (unknown queue, no queue given)
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from kartoteka.callcenter import acd
from kartoteka.callcenter.providers.asterisk.agi import AgiSession, register


def _decide(caller: str, queue: str, call_id: str) -> acd.Decision | None:
    close_old_connections()  # a long-running server must not reuse a dead connection
    try:
        return acd.route(caller, queue, call_id, reserve=True)
    except acd.UnknownQueue:
        return None
    finally:
        close_old_connections()


@register("route")
async def route(session: AgiSession, args: list[str]) -> None:
    """args: the queue, then optionally the call id (the linkedid the AMI link records)."""
    queue = args[0].strip()[:80] if args else ""
    call_id = (args[1] if len(args) > 1 else session.env.get("agi_uniqueid", "")).strip()[:150]
    caller = session.env.get("agi_callerid", "")[:80]
    decision = await sync_to_async(_decide, thread_sensitive=False)(caller, queue, call_id)
    if decision is None:
        await session.set_variable("KT_TARGET", "")
        await session.set_variable("QUEUE_PRIO", "0")
        await session.set_variable("KT_CLIENT_ID", "")
        await session.set_variable("KT_ROUTE", "error")
        return
    await session.set_variable("KT_TARGET", decision.extension)
    await session.set_variable("QUEUE_PRIO", str(decision.priority))
    await session.set_variable("KT_CLIENT_ID", str(decision.client_id or ""))
    await session.set_variable("KT_ROUTE", "operator" if decision.extension else "queue")
