import pytest


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploads, progress and rejected rows go to the test's own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
