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


def keeps_state() -> bool:
    """Whether the active provider can be told operators' states (overrides set_state): when
    it cannot, there is no job to queue (a job row written and committed per call event)."""
    code = settings.TELEPHONY_PROVIDER
    return bool(code) and load(code).set_state is not Provider.set_state
