"""Alerts to administrators: in the notification centre, and by e-mail when mail is set up."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.core import audit
from kartoteka.core.models import Notification

log = logging.getLogger(__name__)


def administrators() -> list[Any]:
    from kartoteka.accounts.models import User

    return list(User.objects.filter(Q(is_superuser=True) | Q(role__is_admin=True), is_active=True))


def notify_admins(text: str, link: str = "") -> None:
    admins = administrators()
    Notification.objects.bulk_create(Notification(user=a, text=text, link=link) for a in admins)
    emails = [a.email for a in admins if a.email]
    if emails and settings.EMAIL_HOST:
        transaction.on_commit(lambda: _mail(text, emails))


def _mail(text: str, emails: list[str]) -> None:
    try:
        send_mail(_("Kartoteka: security alert"), text, None, emails)
    except OSError:
        log.exception("could not send the alert e-mail")


def card_viewed(user: Any, client: Any) -> None:
    """Audit a card view; alert once when a user opens unusually many cards within an hour."""
    audit.record(user, "card_view", client)
    since = timezone.now() - dt.timedelta(hours=1)
    if audit.count_recent(user.pk, "card_view", since) == settings.AUDIT_CARD_VIEWS_PER_HOUR:
        notify_admins(
            _("%(user)s opened %(n)d client cards within an hour.")
            % {"user": user.get_username(), "n": settings.AUDIT_CARD_VIEWS_PER_HOUR}
        )
