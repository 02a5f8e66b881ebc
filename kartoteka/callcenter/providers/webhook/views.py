"""POST /telephony/webhook/: outside sessions and CSRF, authenticated by the signature alone.

Two doors to the same `accept`: the Django view (WSGI, the tests) and `asgi.webhook_app`,
which the ASGI server routes to before Django's middleware (see that module for why)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kartoteka.callcenter import services
from kartoteka.callcenter.providers.base import Event
from kartoteka.callcenter.providers.webhook.provider import Rejected, WebhookProvider

MAX_BODY = 256 * 1024
NOT_CONFIGURED = "The telephony webhook is not configured."
FAILED = "The events could not be applied; send them again."
TOO_LARGE: tuple[int, dict[str, Any]] = (413, {"detail": f"At most {MAX_BODY} bytes."})


def configured() -> WebhookProvider | None:
    provider = WebhookProvider(settings.TELEPHONY_CONFIG)
    return provider if provider.secret else None


def check_length(length: str) -> tuple[int, dict[str, Any]] | None:
    if length.isdigit() and int(length) > MAX_BODY:
        return TOO_LARGE
    return None


def verified(provider: WebhookProvider, headers: Mapping[str, str], body: bytes) -> list[Event]:
    """The request's events, signed and valid; Rejected (status and detail) otherwise."""
    provider.verify(headers, body)
    return provider.parse(body)


def accept(provider: WebhookProvider, headers: Mapping[str, str], body: bytes) -> tuple[int, Any]:
    """Verify, parse and apply a request's events: (HTTP status, JSON answer)."""
    try:
        events = verified(provider, headers, body)
    except Rejected as exc:
        return exc.status, {"detail": exc.detail}
    for event in events:
        services.handle_event(event)
    return 200, {"accepted": len(events)}


@csrf_exempt
@login_not_required
@require_POST
def receive(request: HttpRequest) -> JsonResponse:
    provider = configured()
    if provider is None:
        return JsonResponse({"detail": NOT_CONFIGURED}, status=404)
    refused = check_length(request.headers.get("Content-Length", ""))
    if refused:
        return JsonResponse(refused[1], status=refused[0])
    status, answer = accept(provider, request.headers, request.body)
    return JsonResponse(answer, status=status)
