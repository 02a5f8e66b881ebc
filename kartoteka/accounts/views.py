"""The profile (language, API tokens) and the notification centre."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kartoteka.accounts import services
from kartoteka.accounts.models import ApiToken, User
from kartoteka.accounts.two_factor import has_device
from kartoteka.core import audit
from kartoteka.core.forms import style
from kartoteka.core.models import Notification
from kartoteka.core.views import actor


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language"]
        labels = {"language": gettext_lazy("interface language")}


def profile(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    form = ProfileForm(request.POST or None, instance=user)
    style(form)
    if request.method == "POST" and form.is_valid():
        form.save()
        translation.activate(user.language or translation.get_language_from_request(request))
        messages.success(request, _("Profile saved."))
        return redirect("profile")
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")
    new_key = request.session.pop("new_token", None)
    context = {"form": form, "tokens": tokens, "new_key": new_key, "two_factor": has_device(user)}
    return render(request, "accounts/profile.html", context)


@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "").strip()[:100]
    _token, key = services.create_token(actor(request), name)
    # Shown once on the next page, then gone: only the hash is stored.
    request.session["new_token"] = key
    return redirect("profile")


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=actor(request))
    services.revoke_token(actor(request), token)
    messages.success(request, _("Token revoked."))
    return redirect("profile")


def notifications(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    rows = list(Notification.objects.filter(user=user)[:100])
    if request.method == "POST":
        Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
        return redirect("notifications")
    return render(request, "accounts/notifications.html", {"rows": rows})


def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's own password; other sessions of the user end, this one stays."""
    user = actor(request)
    form = PasswordChangeForm(user, request.POST or None)
    style(form)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, user)
        audit.record(user, "user_change", user, change="password changed")
        messages.success(request, _("Password changed."))
        return redirect("profile")
    return render(
        request, "accounts/password.html", {"form": form}, status=422 if form.errors else 200
    )
