"""The iCalendar feed: its secret address (made, shown once, revoked) and the feed itself."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kartoteka.core.views import actor
from kartoteka.planner import ical
from kartoteka.planner.models import CalendarFeed

SESSION_KEY = "planner_new_feed_url"


@require_GET
def feed_settings(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    current = CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()
    context = {"feed": current, "new_url": request.session.pop(SESSION_KEY, None)}
    return render(request, "planner/feed.html", context)


@require_POST
def feed_new(request: HttpRequest) -> HttpResponse:
    _feed, key = ical.new_feed(actor(request))
    url = request.build_absolute_uri(reverse("planner:ical", args=[key]))
    request.session[SESSION_KEY] = url  # shown once, on the next page
    return redirect("planner:feed")


@require_POST
def feed_revoke(request: HttpRequest) -> HttpResponse:
    if ical.revoke_feeds(actor(request)):
        messages.success(request, _("The old address no longer works."))
    return redirect("planner:feed")


@login_not_required
@require_GET
def feed(request: HttpRequest, key: str) -> HttpResponse:
    """The feed calendar programs subscribe to: the secret key is the only credential."""
    user = ical.user_for_key(key[:100])
    if user is None:
        raise Http404
    response = HttpResponse(ical.feed(user), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
