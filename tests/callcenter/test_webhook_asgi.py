"""The webhook's ASGI door (before Django's middleware, in threads of its own): the same
answers as the Django view — applied once, refused with the reason, nothing half-written —
and everything else handed to Django."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.db import OperationalError, connections

from kartoteka.callcenter import services
from kartoteka.callcenter.models import Call, ProcessedEvent
from kartoteka.callcenter.providers.webhook import asgi as door
from kartoteka.callcenter.providers.webhook.provider import SIGNATURE_HEADER
from kartoteka.callcenter.providers.webhook.views import MAX_BODY
from tests.callcenter.conftest import signed, wire

# The door's threads use connections of their own: the rows must be committed to be seen.
# available_apps: the flush after each test skips post_migrate, so content types are not
# rebuilt under new ids that a browser test's serialized rollback would then collide with.
pytestmark = pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
URL = "/telephony/webhook/"


async def _django(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


@pytest.fixture
def app(monkeypatch):  # type: ignore[no-untyped-def]
    # The threads would keep their connections; a test database cannot be dropped under them.
    monkeypatch.setattr(door, "_keep_connection", connections.close_all)
    return door.route_webhook(_django)


def request(app, body: bytes, headers: dict[str, str], method: str = "POST", path: str = URL):  # type: ignore[no-untyped-def]
    async def go() -> tuple[int, Any]:
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
        talk = ApplicationCommunicator(app, scope)
        half = len(body) // 2  # in two chunks, as a server may deliver it
        await talk.send_input({"type": "http.request", "body": body[:half], "more_body": True})
        await talk.send_input({"type": "http.request", "body": body[half:]})
        start = await talk.receive_output(20)
        answer = await talk.receive_output(20)
        return start["status"], json.loads(answer["body"])

    return async_to_sync(go)()


def send(app, body: Any, **kw: Any) -> tuple[int, Any]:  # type: ignore[no-untyped-def]
    req = signed(body)
    headers = {**req["headers"], "Content-Type": "application/json", **kw}
    return request(app, req["data"], headers)


def test_a_signed_event_is_applied_once(app, olga, ivan):  # type: ignore[no-untyped-def]
    ring = wire("ringing", event_id="once", extension="101")
    assert send(app, ring) == (200, {"accepted": 1})
    assert send(app, ring) == (200, {"accepted": 1})
    call = Call.objects.get()
    assert call.client == ivan and call.user == olga.user and call.status == "ringing"
    assert ProcessedEvent.objects.count() == 1


def test_a_bad_signature_is_refused_and_nothing_written(app, olga):  # type: ignore[no-untyped-def]
    status, answer = send(app, wire("ringing"), **{SIGNATURE_HEADER: "sha256=" + "0" * 64})
    assert status == 401 and "signature" in answer["detail"]
    assert not Call.objects.exists() and not ProcessedEvent.objects.exists()


def test_a_bad_event_names_its_field(app, olga):  # type: ignore[no-untyped-def]
    status, answer = send(app, {**wire("ringing"), "type": "call.exploded"})
    assert status == 422 and answer["detail"][0]["loc"][:2] == ["body", "type"]
    assert not ProcessedEvent.objects.exists()


def test_a_body_too_long_is_refused(app, olga):  # type: ignore[no-untyped-def]
    big = b"[" + b" " * MAX_BODY + b"]"
    assert request(app, big, {})[0] == 413  # no Content-Length: counted while reading
    assert request(app, b"{}", {"Content-Length": str(MAX_BODY + 1)})[0] == 413


def test_without_a_secret_the_door_is_closed(app, settings):  # type: ignore[no-untyped-def]
    settings.TELEPHONY_CONFIG = {**settings.TELEPHONY_CONFIG, "secret": ""}
    assert send(app, wire("ringing"))[0] == 404


def test_a_failure_answers_500_for_the_pbx_to_retry(app, olga, monkeypatch):  # type: ignore[no-untyped-def]
    def boom(*args: Any) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "apply", boom)
    status, answer = send(app, wire("ringing", extension="101"))
    assert status == 500 and "again" in answer["detail"]


def test_a_database_gone_when_a_batch_starts_still_answers(app, olga, monkeypatch):  # type: ignore[no-untyped-def]
    def gone() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(door, "_prepare_statements", gone)  # the writer's thread goes on
    assert send(app, wire("ringing", extension="101")) == (200, {"accepted": 1})
    monkeypatch.setattr(services, "apply", lambda *args: gone())
    assert send(app, wire("answered", extension="101"))[0] == 500
    assert all(thread.is_alive() for thread in door.writer._threads)


def test_everything_else_goes_to_django(app):  # type: ignore[no-untyped-def]
    assert request(app, b"", {}, method="GET")[0] == 299
    assert request(app, b"{}", {}, path="/telephony/webhook/x/")[0] == 299
