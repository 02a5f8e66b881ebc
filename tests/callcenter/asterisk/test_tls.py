"""AMI over TLS (manager.conf tlsenable=yes): the replay server with a certificate made here."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess

import pytest

from kartoteka.callcenter.providers.asterisk.config import AmiConfig
from kartoteka.callcenter.providers.asterisk.listener import Listener
from kartoteka.callcenter.providers.asterisk.provider import AsteriskProvider
from kartoteka.callcenter.providers.base import ProviderError
from tests.callcenter.asterisk.replay import ReplayServer, Session
from tests.callcenter.asterisk.streams import events_of, raw


@pytest.fixture(scope="module")
def pbx_tls(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, as a PBX's own would be."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(  # noqa: S603 - a fixed command line, no input reaches it
        [
            openssl,
            *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=pbx.test"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, str(cert)


def test_events_over_tls(pbx_tls):
    context, cert = pbx_tls
    with ReplayServer(Session(raw("queue_call"), drop=True), tls=context) as server:
        config = AmiConfig.from_mapping(server.config(ami_tls=True, ami_tls_ca=cert))
        sink: list = []
        listener = Listener(config, sink.append, threaded_sink=False)
        asyncio.run(listener.run(attempts=1))
    assert sink == events_of("queue_call")
    assert server.received[0]["Secret"] == "s3cret"  # sent, but only inside TLS


def test_originate_over_tls(pbx_tls):
    context, cert = pbx_tls
    ok = raw("direct_call").split(b"Event:")[0]
    with ReplayServer(Session(ok), tls=context) as server:
        AsteriskProvider(server.config(ami_tls=True, ami_tls_ca=cert)).originate("101", "112")
    assert server.actions() == ["Login", "Originate", "Logoff"]


def test_a_certificate_nobody_vouches_for_is_refused(pbx_tls):
    context, _cert = pbx_tls
    with ReplayServer(Session(raw("queue_call")), tls=context) as server:
        provider = AsteriskProvider(server.config(ami_tls=True))  # the system's CAs only
        with pytest.raises(ProviderError, match="Cannot reach the PBX"):
            provider.originate("101", "112")
    assert server.received == []  # nothing, not even the login, left the client


def test_a_missing_ca_file_names_the_key():
    with pytest.raises(ProviderError, match="ami_tls_ca"):
        AmiConfig.from_mapping({"ami_tls": True, "ami_tls_ca": "/nowhere/ca.pem"}).ssl_context()
