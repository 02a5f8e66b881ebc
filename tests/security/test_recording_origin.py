"""A recording URL the PBX sent goes into the page's CSP header as an origin: a bad port is not
a 500, and ";" or spaces never add a directive or a source."""

from __future__ import annotations

import pytest

from kartoteka.quality import services
from tests.quality.conftest import make_call, olga, scorecard  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

HOSTILE = [
    "https://pbx.example:99999/rec.wav",
    "https://pbx.example:abc/rec.wav",
    "https://[::1/rec.wav",
    "https://pbx.example;script-src *;/rec.wav",
    "https://pbx.example;report-uri https://evil.example/rec.wav",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_a_hostile_recording_url_is_not_played(client, helen, olga, scorecard, url):  # noqa: F811
    call = make_call(olga, recording_url=url)
    evaluation = services.start_evaluation(helen, call, scorecard)
    client.force_login(helen)
    for page in (f"/calls/{call.pk}/", f"/quality/{evaluation.pk}/"):
        response = client.get(page)
        assert response.status_code == 200, page
        policy = response.get("Content-Security-Policy", "")
        assert "evil" not in policy and "script-src *" not in policy and "media-src" not in policy


def test_a_good_recording_url_is_allowed_by_origin(client, helen, olga, scorecard):  # noqa: F811
    call = make_call(olga, recording_url="https://pbx.example:8443/rec/1.wav")
    client.force_login(helen)
    policy = client.get(f"/calls/{call.pk}/")["Content-Security-Policy"]
    assert policy.endswith("; media-src 'self' https://pbx.example:8443")
