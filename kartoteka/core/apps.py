from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from kartoteka.core import audit

    audit.record(user, "login")


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from kartoteka.core import audit

    if user is not None:
        audit.record(user, "logout")


def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    from kartoteka.core import audit

    audit.record(None, "login_failed", username=str(credentials.get("username", ""))[:150])


class CoreConfig(AppConfig):
    name = "kartoteka.core"
    label = "core"

    def ready(self) -> None:
        # Django's auth reports logins only through these signals.
        user_logged_in.connect(_logged_in, dispatch_uid="kartoteka_audit_login")
        user_logged_out.connect(_logged_out, dispatch_uid="kartoteka_audit_logout")
        user_login_failed.connect(_login_failed, dispatch_uid="kartoteka_audit_login_failed")
