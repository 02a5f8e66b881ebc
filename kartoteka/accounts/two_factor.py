"""Optional TOTP two-factor login (django-otp); an administrator can require it per role."""

from __future__ import annotations

from collections.abc import Callable

import django_otp
import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from kartoteka.accounts.models import User
from kartoteka.core import audit
from kartoteka.core.views import actor

# Pages a user who still owes the second factor may open.
OPEN_PATHS = ("/login/", "/logout/", "/profile/2fa/", "/static/", "/api/")
SESSION_KEY = "kartoteka_2fa_owed"


def has_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def required(user: User) -> bool:
    return bool(user.role and user.role.require_2fa)


class TwoFactorRequired:
    """Send a signed-in user who has (or must have) a second factor to verify or set it up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            isinstance(user, User)
            and not user.is_verified()  # type: ignore[attr-defined]
            and not request.path.startswith(OPEN_PATHS)
        ):
            # Asked once per session: "device", "setup" or "" (nothing owed).
            if SESSION_KEY not in request.session:
                request.session[SESSION_KEY] = (
                    "device" if has_device(user) else "setup" if required(user) else ""
                )
            owed = request.session[SESSION_KEY]
            if owed == "device":
                return redirect(f"{reverse('two_factor_verify')}?next={request.path}")
            if owed == "setup":
                return redirect("two_factor_setup")
        return self.get_response(request)


def verify(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    error = ""
    if request.method == "POST":
        device = django_otp.match_token(user, request.POST.get("code", "").strip()[:12])
        if device is not None:
            django_otp.login(request, device)
            target = request.GET.get("next", "")
            safe = url_has_allowed_host_and_scheme(
                target, {request.get_host()}, request.is_secure()
            )
            return redirect(target if safe and target else "clients:list")
        error = _("The code does not match. Check the time on your phone and try again.")
        audit.record(user, "login_failed", second_factor=True)
    return render(
        request, "accounts/two_factor_verify.html", {"error": error}, status=422 if error else 200
    )


def _owes_code(user: User) -> bool:
    """A session that has not yet given the code of an existing device may not change it."""
    return has_device(user) and not user.is_verified()  # type: ignore[attr-defined]


def setup(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if _owes_code(user):
        return redirect(f"{reverse('two_factor_verify')}?next={request.path}")
    device = TOTPDevice.objects.filter(
        user=user, confirmed=False
    ).first() or TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    error = ""
    if request.method == "POST":
        if device.verify_token(request.POST.get("code", "").strip()[:12]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            django_otp.login(request, device)
            request.session.pop(SESSION_KEY, None)
            audit.record(user, "user_change", user, change="two-factor enabled")
            messages.success(request, _("Two-factor login is on."))
            return redirect("profile")
        error = _("The code does not match. Check the time on your phone and try again.")
    # segno draws the QR code as SVG paths only: no scripts, nothing from the user.
    qr = mark_safe(segno.make(device.config_url).svg_inline(scale=4))  # noqa: S308  # nosec B308 B703
    context = {
        "qr": qr,
        "secret": device.config_url.split("secret=")[1].split("&")[0],
        "error": error,
        "active": has_device(user),
        "required": required(user),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=422 if error else 200)


@require_POST
def disable(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if _owes_code(user):
        return redirect("two_factor_verify")
    if required(user):
        messages.error(request, _("Your role requires two-factor login."))
    else:
        TOTPDevice.objects.filter(user=user).delete()
        request.session.pop(SESSION_KEY, None)
        audit.record(user, "user_change", user, change="two-factor disabled")
        messages.success(request, _("Two-factor login is off."))
    return redirect("profile")
