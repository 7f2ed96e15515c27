"""The calendar of one's actions: the page with the secret address, and the feed itself."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST, require_safe

from .calendar import (
    calendar_actions,
    calendar_feed_find,
    calendar_feed_get,
    calendar_feed_renew,
    calendar_ics,
)
from .reminders import user_language


@require_GET
@never_cache
def calendar_page(request: HttpRequest) -> HttpResponse:
    feed = calendar_feed_get(user=request.user)
    url = request.build_absolute_uri(reverse("chain:calendar-feed", args=[feed.token]))
    context = {
        "feed_url": url,
        # webcal:// opens the calendar program of the system (Apple, Outlook) to subscribe.
        "webcal_url": "webcal://" + url.split("://", 1)[1],
        "actions": calendar_actions(request.user).count(),
    }
    return render(request, "chain/calendar.html", context)


@require_POST
def calendar_renew(request: HttpRequest) -> HttpResponse:
    calendar_feed_renew(user=request.user)
    messages.success(
        request,
        _("Your calendar has a new address. Subscribe to it again; the old one no longer works."),
    )
    return redirect("chain:calendar")


@require_safe
@login_not_required  # calendar programs cannot log in: the secret token is the key
@never_cache
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = calendar_feed_find(token)
    if feed is None:
        raise Http404
    user = feed.user
    # In the user's language, not the calendar program's.
    with translation.override(user_language(user)):
        body = calendar_ics(
            calendar_actions(user),
            name=_("Actions: %(name)s") % {"name": user.get_full_name() or user.get_username()},
            description=_("Chain: %(chain)s"),
            now=timezone.now(),
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="actions.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response
