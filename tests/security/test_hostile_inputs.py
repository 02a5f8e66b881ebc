"""Garbage the fuzzer found answering 500: out-of-range ids in a multiple choice, a bare word as
`next`. Each is a clear refusal or a safe redirect, and nothing is written."""

from __future__ import annotations

import pytest

from kartoteka.callscripts.models import Script
from tests.callcenter.conftest import make_operator

pytestmark = pytest.mark.django_db

HUGE = "9" * 60


def test_an_out_of_range_queue_id_is_a_form_error(client, helen):
    client.force_login(helen)
    for bad in (HUGE, "²", "-1", "1e999"):
        response = client.post("/call-scripts/", {"name": "S", "queues": [bad]})
        assert response.status_code in (200, 422), bad
        assert "queues" in response.content.decode()
    assert not Script.all_objects.exists()


@pytest.mark.parametrize(
    "target", ["1", "callcenter:list", "javascript:alert(1)", "//evil.example"]
)
def test_dial_next_is_a_local_path_or_the_console(client, sales, settings, target):
    settings.TELEPHONY_PROVIDER = "webhook"
    client.force_login(make_operator("olga", "101", sales).user)
    response = client.post("/calls/dial/", {"number": "", "next": target})
    assert response.status_code == 302 and response["Location"] == "/calls/console/"
