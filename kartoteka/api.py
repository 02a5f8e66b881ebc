"""The REST API at /api/v1: token authentication, JSON errors naming the field."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer

from kartoteka.accounts.services import user_for_token


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):  # type: ignore[no-untyped-def]
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Kartoteka API",
    version="1",
    auth=TokenAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    urls_namespace="api",
)
