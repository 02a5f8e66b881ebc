"""Shared helpers for views: htmx-aware rendering and the home page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from kartoteka.accounts.models import User


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or only `partial` when htmx asks for a fragment."""
    name = partial if partial and getattr(request, "htmx", False) else template
    return render(request, name, context, status=status)


def actor(request: HttpRequest) -> User:
    """The signed-in user (LoginRequired guarantees one on every page)."""
    user = request.user
    assert isinstance(user, User)
    return user


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("clients:list")
