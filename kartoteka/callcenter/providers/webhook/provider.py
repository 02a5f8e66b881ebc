"""Any cloud PBX that can POST JSON: events signed with a shared secret (HMAC-SHA256 over the
timestamp and the raw body), checked in constant time, within a window against replays.

    X-Kartoteka-Timestamp: 1767225600
    X-Kartoteka-Signature: sha256=<hex of HMAC-SHA256(secret, "1767225600." + body)>

Click-to-call goes the other way: a signed POST of {"extension", "number"} to originate_url.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from kartoteka.callcenter.providers.base import Event, Provider, ProviderError, Unsupported
from kartoteka.callcenter.providers.webhook.schema import MAX_EVENTS, WebhookEvent

TIMESTAMP_HEADER = "X-Kartoteka-Timestamp"
SIGNATURE_HEADER = "X-Kartoteka-Signature"
TOLERANCE_SECONDS = 300
ORIGINATE_TIMEOUT = 5


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class Rejected(Exception):
    """The request is refused: `status` (401, 400, 422) with `detail` to answer."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status, self.detail = status, detail


class WebhookProvider(Provider):
    code = "webhook"
    name = "Webhook"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.secret = str(config.get("secret") or "")

    # --- events in --------------------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
        """Raise Rejected(401) unless the body is signed with the secret, recently."""
        stamp = headers.get(TIMESTAMP_HEADER, "")
        signature = headers.get(SIGNATURE_HEADER, "")
        if not stamp or not signature:
            raise Rejected(401, f"Send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}.")
        if not stamp.isdigit() or len(stamp) > 12:
            raise Rejected(401, f"{TIMESTAMP_HEADER} must be Unix time in seconds.")
        now = time.time() if now is None else now
        if abs(now - int(stamp)) > TOLERANCE_SECONDS:
            raise Rejected(401, f"{TIMESTAMP_HEADER} is outside the allowed window.")
        expected = sign(self.secret, stamp, body)
        if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
            raise Rejected(401, "The signature does not match.")

    def parse(self, body: bytes) -> list[Event]:
        """The body's events (one object or a list); Rejected(400/422) naming what is wrong."""
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # too deep: not JSON we read
            raise Rejected(400, "The body is not valid JSON.") from None
        many = isinstance(data, list)
        items = data if many else [data]
        if many and not 1 <= len(items) <= MAX_EVENTS:
            raise Rejected(422, [_error([], f"Send 1 to {MAX_EVENTS} events.")])
        events: list[Event] = []
        errors: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            where: list[str | int] = [index] if many else []
            if not isinstance(item, dict):
                errors.append(_error(where, "An event is a JSON object."))
                continue
            try:
                events.append(WebhookEvent.model_validate(item).normalized(self.code))
            except ValidationError as exc:
                errors.extend(_errors(where, exc))
        if errors:
            raise Rejected(422, errors)
        return events

    # --- actions out ------------------------------------------------------------------------

    def originate(self, extension: str, number: str) -> None:
        url = str(self.config.get("originate_url") or "")
        if not url:
            raise Unsupported(self.code)
        body = json.dumps({"extension": extension, "number": number}).encode()
        stamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 - an https URL from the settings
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: stamp,
                SIGNATURE_HEADER: sign(self.secret, stamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=ORIGINATE_TIMEOUT) as response:  # noqa: S310  # nosec B310
                if response.status >= 300:
                    raise ProviderError(f"HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            raise ProviderError(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise ProviderError(str(getattr(exc, "reason", exc))) from None


def _error(loc: list[str | int], msg: str) -> dict[str, Any]:
    return {"loc": ["body", *loc], "msg": msg, "type": "value_error"}


def _errors(where: list[str | int], exc: ValidationError) -> list[dict[str, Any]]:
    found = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = [*where, *error["loc"]]
        msg = str(error["msg"])
        if error["type"] == "value_error" and ": " in msg:
            # Our own model check names its field first ("call_id: …").
            field, _sep, msg = msg.removeprefix("Value error, ").partition(": ")
            loc = [*where, field]
        found.append({"loc": ["body", *loc], "msg": msg, "type": error["type"]})
    return found
