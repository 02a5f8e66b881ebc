"""Demo contact centre: operators, queues and a couple of weeks of calls with their status history,
so the call list, the card, the callbacks report, the board and the staffing page show something.

Deterministic for a seed (times are relative to today) and fast: calls and status rows are
built in memory by a small queue simulation over business hours and written with bulk_create;
only the lost calls go through the call-back service (they become tasks as live ones do).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from kartoteka.accounts.models import Role, Team, User
from kartoteka.callcenter import callbacks
from kartoteka.callcenter.models import Call, Disposition, Operator, OperatorStatusChange, Queue
from kartoteka.clients.models import Phone
from kartoteka.planner.models import Task

PROVIDER = "demo"
OPERATORS = [
    ("operator01", "Алина", "Романова", "201"),
    ("operator02", "Кирилл", "Фёдоров", "202"),
    ("operator03", "Вера", "Никитина", "203"),
    ("operator04", "Глеб", "Соловьёв", "204"),
    ("operator05", "Дарья", "Макарова", "205"),
    ("operator06", "Тимур", "Ахмедов", "206"),
]
QUEUES = {"sales": 0.55, "support": 0.45}  # share of inbound calls
# Calls per hour by hour of a weekday: a morning and an afternoon peak.
HOURLY = {9: 14, 10: 22, 11: 26, 12: 20, 13: 15, 14: 19, 15: 24, 16: 21, 17: 13}
SATURDAY = 0.35  # a quieter Saturday (10–15); Sunday closed
SUMMARIES = [
    "Уточнил условия доставки, отправили счёт на почту.",
    "Спрашивала про статус заказа, заказ передан в доставку.",
    "Жалоба на задержку, передано руководителю.",
    "Просит перезвонить после обеда.",
    "Оформили повторный заказ.",
    "Консультация по тарифу, клиент подумает.",
]
IVR = {"sales": {"menu": "1", "choice": "sales"}, "support": {"menu": "2", "choice": "support"}}


@dataclass
class Agent:
    """One operator through a simulated day: when free next, and the status rows so far."""

    operator: Operator
    free_at: dt.datetime
    lunch: dt.datetime | None = None
    rows: list[OperatorStatusChange] = field(default_factory=list)

    def status(
        self, status: str, start: dt.datetime, end: dt.datetime, call: Call | None = None
    ) -> None:
        if end > start:
            source = "call" if call is not None else "operator"
            self.rows.append(
                OperatorStatusChange(
                    operator=self.operator,
                    status=status,
                    started_at=start,
                    ended_at=end,
                    source=source,
                    call=call,
                )
            )


def _user(username: str, first: str, last: str, role: Role | None) -> User:
    user, _created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@example.com",
            "password": make_password(None),  # an administrator sets one to use it
            "role": role,
        },
    )
    return user


def ensure_operators() -> list[Operator]:
    """Six operators in the contact-centre team, headed by a supervisor (the head role), who
    also calls back the queues' lost calls of unknown numbers."""
    roles = {r.code: r for r in Role.objects.filter(code__in=["operator", "head"])}
    head = _user("supervisor01", "Светлана", "Гончарова", roles.get("head"))
    team, _created = Team.objects.get_or_create(name="Контакт-центр", defaults={"head": head})
    users = [_user(u, first, last, roles.get("operator")) for u, first, last, _e in OPERATORS]
    team.members.add(head, *users)
    operators = []
    for user, (_u, _f, _l, extension) in zip(users, OPERATORS, strict=True):
        row = Operator.all_objects.filter(user=user).first()
        if row is None and not Operator.objects.filter(extension=extension).exists():
            row = Operator.objects.create(
                user=user, extension=extension, since=timezone.now(), acw_seconds=45
            )
        if row is not None:
            operators.append(row)
    for name in QUEUES:
        Queue.objects.get_or_create(name=name, defaults={"callback_user": head})
    return operators


def _arrivals(rnd: random.Random, day: dt.date, zone: dt.tzinfo) -> list[dt.datetime]:
    """Poisson arrivals, hour by hour, on a weekday (Saturday quieter and shorter)."""
    weekday = day.weekday()
    if weekday == 6:
        return []
    out = []
    for hour, hourly in HOURLY.items():
        if weekday == 5 and not 10 <= hour < 15:
            continue
        rate = hourly * (SATURDAY if weekday == 5 else 1.0)
        t = dt.datetime.combine(day, dt.time(hour), zone)
        end = t + dt.timedelta(hours=1)
        while True:
            t += dt.timedelta(seconds=rnd.expovariate(rate / 3600))
            if t >= end:
                break
            out.append(t)
    return out


def load(days: int = 14, seed: int = 1, now: dt.datetime | None = None) -> dict[str, int]:
    """Add `days` days of calls ending yesterday; nothing if demo calls are already there."""
    if Call.objects.filter(provider=PROVIDER).exists():
        return {"calls": 0, "status_rows": 0, "callbacks": 0}
    rnd = random.Random(seed)
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    today = timezone.localtime(now, zone).date()
    with transaction.atomic():
        operators = ensure_operators()
        if not operators:
            return {"calls": 0, "status_rows": 0, "callbacks": 0}
        results = list(Disposition.objects.filter(is_active=True))
        phones = list(Phone.objects.order_by("pk").values_list("client_id", "e164")[:400])
        calls, rows = _simulate(rnd, operators, results, phones, today, days, zone)
        Call.objects.bulk_create(calls, batch_size=500)  # sets their pks (PostgreSQL, SQLite)
        OperatorStatusChange.objects.bulk_create(rows, batch_size=1000)
        _set_current_status(rnd, operators, now)
        scheduled = _callbacks(rnd, now)
    return {"calls": len(calls), "status_rows": len(rows), "callbacks": scheduled}


def _simulate(
    rnd: random.Random,
    operators: list[Operator],
    results: list[Disposition],
    phones: list[tuple[int, str]],
    today: dt.date,
    days: int,
    zone: dt.tzinfo,
) -> tuple[list[Call], list[OperatorStatusChange]]:
    calls: list[Call] = []
    rows: list[OperatorStatusChange] = []
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        arrivals = _arrivals(rnd, day, zone)
        if not arrivals:
            continue
        # Most operators work the day; one is off on a rotating basis.
        staff = [a for i, a in enumerate(operators) if (i + back) % len(operators) != 0]
        open_at = arrivals[0].replace(minute=0, second=0, microsecond=0)
        agents = [
            Agent(op, open_at, open_at + dt.timedelta(hours=3, minutes=rnd.randrange(0, 90, 15)))
            for op in staff
        ]
        for at in arrivals:
            calls.append(_call(rnd, agents, at, results, phones, len(calls)))
        close = arrivals[-1] + dt.timedelta(minutes=30)
        for agent in agents:
            _fill_idle(agent, open_at, close)
            rows.extend(agent.rows)
    return calls, rows


def _call(
    rnd: random.Random,
    agents: list[Agent],
    at: dt.datetime,
    results: list[Disposition],
    phones: list[tuple[int, str]],
    n: int,
) -> Call:
    queue = "sales" if rnd.random() < QUEUES["sales"] else "support"
    known = phones and rnd.random() < 0.7
    client_id, number = rnd.choice(phones) if known else (None, f"+7916{rnd.randrange(10**7):07d}")
    call = Call(
        provider=PROVIDER,
        call_id=f"demo-{n:06d}",
        caller=number,
        caller_e164=number,
        callee="+74950000000",
        callee_e164="+74950000000",
        client_id=client_id,
        queue=queue,
        ivr=IVR[queue],
        started_at=at,
    )
    for agent in agents:  # lunch, taken when the agent is next free after its hour
        if agent.lunch is not None and agent.free_at >= agent.lunch:
            end = agent.free_at + dt.timedelta(minutes=45)
            agent.status("break", agent.free_at, end)
            agent.free_at, agent.lunch = end, None
    agent = min(agents, key=lambda a: a.free_at)
    ring = dt.timedelta(seconds=rnd.uniform(2, 8))
    wait = max(dt.timedelta(0), agent.free_at - at) + ring
    patience = dt.timedelta(seconds=10 + rnd.expovariate(1 / 80))  # past the ring
    if wait > patience:  # hung up in the queue
        call.status, call.ended_at, call.end_reason = "abandoned", at + patience, "caller"
        return call
    if rnd.random() < 0.02:  # rang the operator, nobody picked up
        call.status, call.ended_at = "missed", at + wait + dt.timedelta(seconds=20)
        call.operator, call.user_id, call.extension = (
            agent.operator,
            agent.operator.user_id,
            agent.operator.extension,
        )
        return call
    answered = at + wait
    talk = dt.timedelta(seconds=max(20, rnd.lognormvariate(math.log(170), 0.55)))
    acw = dt.timedelta(seconds=rnd.uniform(10, agent.operator.acw_seconds))
    call.status, call.answered_at, call.ended_at = "ended", answered, answered + talk
    call.operator, call.user_id = agent.operator, agent.operator.user_id
    call.extension = agent.operator.extension
    if results and rnd.random() < 0.85:
        call.disposition = rnd.choice(results)
        call.summary = rnd.choice(SUMMARIES)
    start = max(agent.free_at, answered - ring)
    agent.status("available", agent.free_at, start)
    agent.status("ringing", start, answered, call=call)
    agent.status("on_call", answered, answered + talk, call=call)
    agent.status("after_call", answered + talk, answered + talk + acw, call=call)
    agent.free_at = answered + talk + acw
    return call


def _fill_idle(agent: Agent, open_at: dt.datetime, close: dt.datetime) -> None:
    """Available between calls; offline before the day and after it."""
    rows = sorted(agent.rows, key=lambda r: r.started_at)
    filled: list[OperatorStatusChange] = []
    cursor = open_at
    for row in rows:
        if row.started_at > cursor:
            filled.append(_row(agent.operator, "available", cursor, row.started_at))
        filled.append(row)
        cursor = max(cursor, row.ended_at or cursor)
    filled.append(_row(agent.operator, "available", cursor, max(cursor, close)))
    filled.append(
        _row(agent.operator, "offline", max(cursor, close), open_at + dt.timedelta(hours=15))
    )
    agent.rows = [r for r in filled if r.ended_at is None or r.ended_at > r.started_at]


def _row(
    operator: Operator, status: str, start: dt.datetime, end: dt.datetime
) -> OperatorStatusChange:
    return OperatorStatusChange(
        operator=operator, status=status, started_at=start, ended_at=end, source="operator"
    )


def _set_current_status(rnd: random.Random, operators: list[Operator], now: dt.datetime) -> None:
    """Today: two operators available, one on a break, the rest offline (the board shows it)."""
    for i, op in enumerate(operators):
        status = "available" if i < 2 else "break" if i == 2 else "offline"
        since = now - dt.timedelta(minutes=rnd.randrange(3, 40))
        last = OperatorStatusChange.objects.filter(operator=op).order_by("-started_at").first()
        if last is not None and last.ended_at and last.ended_at > since:
            since = last.ended_at
        OperatorStatusChange.objects.create(
            operator=op, status=status, started_at=since, source="operator"
        )
        Operator.objects.filter(pk=op.pk).update(status=status, since=since)


def _callbacks(rnd: random.Random, now: dt.datetime) -> int:
    """Lost calls become call-back tasks as live ones do; most were called back in time."""
    lost = list(Call.objects.filter(provider=PROVIDER, status__in=Call.LOST).select_related("user"))
    done = []
    for call in lost:
        task = callbacks.schedule(call)
        end = call.ended_at or call.started_at
        if task is not None and end < now - dt.timedelta(hours=6) and rnd.random() < 0.8:
            back = end + dt.timedelta(minutes=rnd.lognormvariate(math.log(25), 0.9))
            Call.objects.filter(pk=call.pk).update(called_back_at=back)
            done.append((task.pk, back))
    for pk, back in done:
        Task.objects.filter(pk=pk).update(status=Task.Status.DONE, closed_at=back)
    return len(lost)
