"""POST /telephony/webhook/: outside sessions and CSRF, authenticated by the signature alone."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kartoteka.callcenter import services
from kartoteka.callcenter.providers.webhook.provider import Rejected, WebhookProvider

MAX_BODY = 256 * 1024


@csrf_exempt
@login_not_required
@require_POST
def receive(request: HttpRequest) -> JsonResponse:
    provider = WebhookProvider(settings.TELEPHONY_CONFIG)
    if not provider.secret:
        return JsonResponse({"detail": "The telephony webhook is not configured."}, status=404)
    length = request.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        return JsonResponse({"detail": f"At most {MAX_BODY} bytes."}, status=413)
    body = request.body
    try:
        provider.verify(request.headers, body)
        events = provider.parse(body)
    except Rejected as exc:
        return JsonResponse({"detail": exc.detail}, status=exc.status)
    for event in events:
        services.handle_event(event)
    return JsonResponse({"accepted": len(events)})
