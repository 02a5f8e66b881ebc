"""A signed body nested past what the JSON parser recurses into is a 400, not a 500, on the IVR
step API and on the telephony webhook (the batched ASGI writer parses with the same code)."""

from __future__ import annotations

import pytest

from kartoteka.callcenter.models import Call
from kartoteka.ivr.models import Session
from tests.callcenter.conftest import signed

pytestmark = pytest.mark.django_db

DEEP = b"[" * 100_000  # 100 kB: well under the body limit


@pytest.mark.parametrize(
    "path", ["/telephony/ivr/start/", "/telephony/ivr/x/", "/telephony/webhook/"]
)
def test_deeply_nested_json_is_a_400(client, menu, path):
    response = client.post(path, **signed(DEEP))
    assert response.status_code == 400
    assert not Session.objects.exists() and not Call.objects.exists()
