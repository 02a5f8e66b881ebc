"""The webhook provider's click-to-call: a signed POST to originate_url; a refusal or an
unreachable PBX is a ProviderError the operator sees, not a 500."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from kartoteka.callcenter.providers.base import ProviderError, Unsupported
from kartoteka.callcenter.providers.webhook.provider import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookProvider,
    sign,
)
from tests.callcenter.conftest import SECRET


class _Pbx(BaseHTTPRequestHandler):
    received: list[tuple[dict, bool]] = []
    answer = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        stamp = self.headers[TIMESTAMP_HEADER]
        valid = self.headers[SIGNATURE_HEADER] == sign(SECRET, stamp, body)
        _Pbx.received.append((json.loads(body), valid))
        self.send_response(_Pbx.answer)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def pbx() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Pbx)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Pbx.received, _Pbx.answer = [], 200
    yield f"http://127.0.0.1:{server.server_address[1]}/originate"
    server.shutdown()


def test_originate_posts_a_signed_request(pbx):
    WebhookProvider({"secret": SECRET, "originate_url": pbx}).originate("101", "+79161234567")
    assert _Pbx.received == [({"extension": "101", "number": "+79161234567"}, True)]


def test_a_refusal_is_a_provider_error(pbx):
    _Pbx.answer = 500
    with pytest.raises(ProviderError, match="500"):
        WebhookProvider({"secret": SECRET, "originate_url": pbx}).originate("101", "+7916")


def test_an_unreachable_pbx_is_a_provider_error():
    provider = WebhookProvider({"secret": SECRET, "originate_url": "http://127.0.0.1:9/x"})
    with pytest.raises(ProviderError):
        provider.originate("101", "+79161234567")


def test_without_an_originate_url_it_is_unsupported():
    with pytest.raises(Unsupported):
        WebhookProvider({"secret": SECRET}).originate("101", "+79161234567")


@pytest.mark.django_db
def test_the_operator_reads_why(olga, settings, pbx):
    from django.core.exceptions import ValidationError

    from kartoteka.callcenter import services

    _Pbx.answer = 503
    settings.TELEPHONY_PROVIDER = "webhook"
    settings.TELEPHONY_CONFIG = {**settings.TELEPHONY_CONFIG, "originate_url": pbx}
    with pytest.raises(ValidationError) as caught:
        services.click_to_call(olga.user, "+79161234567")
    assert "503" in caught.value.message_dict["number"][0]
