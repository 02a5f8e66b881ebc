"""The "route" FastAGI handler over TCP: Asterisk learns whom to Dial, or the queue priority."""

from __future__ import annotations

import pytest
from django.conf import settings

from kartoteka.callcenter import acd_agi  # noqa: F401 - registers "route"
from kartoteka.callcenter.providers.asterisk import agi
from kartoteka.segments.models import ClientClass
from tests.callcenter.acd_cast import busy, give, idle, skilled_queue
from tests.callcenter.asterisk.fake_asterisk import Channel, environment, run

# The handler reads in another thread: the rows must be committed. available_apps: the flush
# after each test skips post_migrate (see test_webhook_asgi).
pytestmark = pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))


def _dialog(*args: str, callerid: str = "+79161234567") -> list[str]:
    async def asterisk(port: int) -> list[str]:
        chan = await Channel.open(port)
        await chan.send(environment("route", *args, callerid=callerid))
        lines = [await chan.answer() for _n in range(4)]
        assert await chan.closed()
        return lines

    return run(agi.HANDLERS, asterisk)


def test_route_sets_the_target_operator(olga, oleg, ivan):
    _queue, english = skilled_queue()
    give(olga, english, 8)
    idle(olga, 10)
    assert _dialog("sales", "call-1") == [
        'SET VARIABLE KT_TARGET "101"',
        'SET VARIABLE QUEUE_PRIO "0"',
        f'SET VARIABLE KT_CLIENT_ID "{ivan.pk}"',
        'SET VARIABLE KT_ROUTE "operator"',
    ]


def test_route_sends_an_a_client_to_the_queue_with_priority(olga, ivan):
    _queue, english = skilled_queue()
    give(olga, english, 8)
    busy(olga)
    ClientClass.objects.create(client=ivan, abc="A", cycle="active")
    assert _dialog("sales") == [
        'SET VARIABLE KT_TARGET ""',
        'SET VARIABLE QUEUE_PRIO "2"',
        f'SET VARIABLE KT_CLIENT_ID "{ivan.pk}"',
        'SET VARIABLE KT_ROUTE "queue"',
    ]


def test_route_with_an_unknown_queue_falls_back(olga):
    assert _dialog("nope", callerid="anonymous")[-1] == 'SET VARIABLE KT_ROUTE "error"'


def test_two_calls_one_free_operator_the_second_goes_to_the_queue(olga, oleg, ivan):
    _queue, english = skilled_queue()
    give(olga, english, 8)
    idle(olga, 10)
    busy(oleg)
    assert _dialog("sales", "call-1")[3] == 'SET VARIABLE KT_ROUTE "operator"'
    second = _dialog("sales", "call-2")
    assert (second[0], second[3]) == ('SET VARIABLE KT_TARGET ""', 'SET VARIABLE KT_ROUTE "queue"')
    assert _dialog("sales", "call-1")[0] == 'SET VARIABLE KT_TARGET "101"'  # asked again
