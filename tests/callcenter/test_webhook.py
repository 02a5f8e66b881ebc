"""POST /telephony/webhook/: signed, fresh, well-formed, applied once; anything else refused
with the reason and nothing written."""

from __future__ import annotations

import json
import time

import pytest

from kartoteka.callcenter.models import Call, ProcessedEvent
from kartoteka.callcenter.providers.webhook.provider import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookProvider,
    sign,
)
from tests.callcenter.conftest import SECRET, signed, wire

pytestmark = pytest.mark.django_db
URL = "/telephony/webhook/"


def post(client, body, **kw):
    return client.post(URL, **signed(body, **kw))


def nothing_written() -> bool:
    return not Call.objects.exists() and not ProcessedEvent.objects.exists()


def test_a_signed_event_is_applied(client, olga, ivan):
    response = post(client, wire("ringing", extension="101", ivr={"lang": "ru"}))
    assert response.status_code == 200 and response.json() == {"accepted": 1}
    call = Call.objects.get()
    assert call.client == ivan and call.ivr == {"lang": "ru"} and call.user == olga.user


def test_a_batch_of_events(client, olga):
    body = [wire("ringing", "b1", extension="101"), wire("answered", "b1", extension="101")]
    assert post(client, body).json() == {"accepted": 2}
    assert Call.objects.get().status == "answered"


def test_a_replayed_event_changes_nothing(client, olga):
    ring = wire("ringing", event_id="once", extension="101")
    post(client, ring)
    before = Call.objects.values().get()
    again = post(client, ring)
    assert again.status_code == 200
    assert Call.objects.values().get() == before and ProcessedEvent.objects.count() == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda req: req["headers"].update({SIGNATURE_HEADER: "sha256=" + "0" * 64}),
        lambda req: req["headers"].pop(SIGNATURE_HEADER),
        lambda req: req["headers"].pop(TIMESTAMP_HEADER),
        lambda req: req["headers"].update({TIMESTAMP_HEADER: "yesterday"}),
        lambda req: req.update({"data": req["data"].replace(b"w1", b"w2")}),
    ],
    ids=["wrong", "no-signature", "no-timestamp", "bad-timestamp", "body-changed"],
)
def test_a_bad_signature_is_401(client, tamper):
    request = signed(wire("ringing"))
    tamper(request)
    response = client.post(URL, **request)
    assert response.status_code == 401 and response.json()["detail"]
    assert nothing_written()


def test_a_wrong_secret_is_401(client):
    assert post(client, wire("ringing"), secret="another-secret").status_code == 401
    assert nothing_written()


def test_an_old_signed_request_is_401(client):
    response = post(client, wire("ringing"), stamp=int(time.time()) - 301)
    assert response.status_code == 401 and "window" in response.json()["detail"]
    assert nothing_written()


def test_not_json_is_400(client):
    assert post(client, b"{not json").status_code == 400
    assert nothing_written()


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"type": "call.exploded"}, ["body", "type"]),
        ({"call_id": ""}, ["body", "call_id"]),
        ({"at": "2026-12-01T10:00:00"}, ["body", "at"]),  # no time zone
        ({"owner_id": 1}, ["body", "owner_id"]),
        ({"recording_url": "javascript:alert(1)"}, ["body", "recording_url"]),
        ({"ivr": {"k": 1}}, ["body", "ivr", "k"]),
        ({"from": "x" * 81}, ["body", "from"]),
    ],
)
def test_a_malformed_event_is_422_naming_the_field(client, change, loc):
    body = {**wire("ringing"), **change}
    response = post(client, body)
    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["detail"]]
    assert nothing_written()


def test_one_bad_event_in_a_batch_rejects_the_batch(client):
    body = [wire("ringing", "b1"), {**wire("ended", "b1"), "type": "nope"}]
    response = post(client, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 1, "type"]
    assert nothing_written()


def test_a_recording_event_needs_its_url(client):
    response = post(client, wire("recording"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "recording_url"]


def test_without_a_secret_the_endpoint_is_off(client, settings):
    settings.TELEPHONY_CONFIG = {**settings.TELEPHONY_CONFIG, "secret": ""}
    assert post(client, wire("ringing"), secret="").status_code == 404
    assert nothing_written()


def test_needs_no_session_or_csrf_token(olga):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, **signed(wire("ringing"))).status_code == 200


def test_only_post(client):
    assert client.get(URL).status_code == 405


def test_verify_compares_in_constant_time_over_timestamp_and_body():
    provider = WebhookProvider({"secret": SECRET})
    body = json.dumps(wire("ringing")).encode()
    stamp = str(int(time.time()))
    provider.verify({TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(SECRET, stamp, body)}, body)
    with pytest.raises(Exception, match="signature"):
        other = str(int(stamp) - 1)
        provider.verify(
            {TIMESTAMP_HEADER: other, SIGNATURE_HEADER: sign(SECRET, stamp, body)}, body
        )


def test_operator_events_over_the_webhook(client, olga):
    body = {
        "id": "op-1",
        "type": "operator.offline",
        "extension": "101",
        "at": "2026-12-01T10:00:00+03:00",
    }
    assert post(client, body).status_code == 200
    olga.refresh_from_db()
    assert olga.status == "offline"
