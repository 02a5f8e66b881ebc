"""The OpenAPI schema and the docs page, served without any CDN."""

from __future__ import annotations

import re

import pytest

from tests.api import Api

pytestmark = pytest.mark.django_db


def test_openapi_json(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/api/v1/persons",
        "/api/v1/persons/{pk}",
        "/api/v1/companies/{pk}/staff",
        "/api/v1/companies/{pk}/staff/{link_id}",
        "/api/v1/interactions",
        "/api/v1/interactions/{interaction_id}",
        "/api/v1/persons/{pk}/timeline",
        "/api/v1/companies/{pk}/restore",
    ):
        assert path in paths, path
    ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert "mass assignment" not in schema["info"]["description"]  # explained in plain words
    assert "refused with 422" in schema["info"]["description"]


def test_docs_load_bundled_assets_only(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "cdn" not in html.lower()
        and "//" not in html.replace("<!DOCTYPE html>", "").split("<body")[0]
    )
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/api/v1/docs/assets/") for s in sources)
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert b"".join(asset.streaming_content)


def test_docs_assets_are_a_fixed_list(client):
    for name in ("../../settings.py", "..%2F__init__.py", "swagger.html", "redoc.standalone.js"):
        assert client.get(f"/api/v1/docs/assets/{name}").status_code == 404


def test_api_root_needs_no_500(alice):
    assert Api(alice).get("/nope").status_code == 404
