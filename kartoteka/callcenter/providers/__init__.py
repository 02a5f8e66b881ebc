"""Telephony providers: one folder each, all over `base.Provider`."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from kartoteka.callcenter.providers.base import Provider

PATHS = {
    "webhook": "kartoteka.callcenter.providers.webhook.provider.WebhookProvider",
    "asterisk": "kartoteka.callcenter.providers.asterisk.provider.AsteriskProvider",
}


def load(code: str) -> type[Provider]:
    cls: type[Provider] = import_string(PATHS[code])
    return cls


def active() -> Provider | None:
    """The provider this installation is wired to (TELEPHONY_PROVIDER), or None."""
    code = settings.TELEPHONY_PROVIDER
    return load(code)(settings.TELEPHONY_CONFIG) if code else None
