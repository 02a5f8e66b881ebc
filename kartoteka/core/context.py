"""What every page's navigation needs: may the user configure, and unread notifications."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kartoteka.core import permissions
from kartoteka.core.models import Notification
from kartoteka.core.permissions import Action


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "can_configure": permissions.can(user, Action.CONFIGURE),
        "unread": lambda: Notification.objects.filter(user=user, read_at__isnull=True).count(),
    }
