"""Sign-in, sign-out and the profile (language)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kartoteka.accounts.models import User
from kartoteka.core.forms import style


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language"]
        labels = {"language": gettext_lazy("interface language")}


def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = ProfileForm(request.POST or None, instance=user)
    style(form)
    if request.method == "POST" and form.is_valid():
        form.save()
        translation.activate(user.language or translation.get_language_from_request(request))
        messages.success(request, _("Profile saved."))
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form})
