"""Each user's calendar of actions: a secret address that calendar programs subscribe to.

Calendar programs cannot log in, so the address itself is the key: a random token of 256
bits, renewable by its user (the old address stops working at once). The feed is plain
iCalendar (RFC 5545) written here: one all-day event per open action with a due date. No
library: the few properties needed are a page of code, and their escaping and line folding
are tested (tests/chain/test_calendar.py).
"""

import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from lib.text import strip_control

from .models import Action, CalendarFeed
from .reminders import site_url
from .selectors import chain_list_for_user

# Octets per line before folding (RFC 5545, 3.1), without the line break.
LINE_OCTETS = 75


def new_token() -> str:
    return secrets.token_urlsafe(32)


def calendar_feed_get(*, user: AbstractBaseUser) -> CalendarFeed:
    """The user's feed, made on first use."""
    feed = CalendarFeed.objects.filter(user=user).first()
    if feed is not None:
        return feed
    try:
        with transaction.atomic():
            return CalendarFeed.objects.create(user=user, token=new_token())
    except IntegrityError:  # made in between by the user's other tab
        return CalendarFeed.objects.get(user=user)


def calendar_feed_renew(*, user: AbstractBaseUser) -> CalendarFeed:
    """A new secret address; the old one is unknown from now on."""
    feed = calendar_feed_get(user=user)
    feed.token = new_token()
    feed.save(update_fields=["token"])
    return feed


def calendar_feed_find(token: str) -> CalendarFeed | None:
    """The active user's feed with this token, or None."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, user__is_active=True)
        .first()
    )
    # The lookup finds equal tokens only; compared again in constant time all the same.
    if feed is None or not secrets.compare_digest(feed.token.encode(), token.encode()):
        return None
    return feed


def calendar_actions(user: AbstractBaseUser) -> QuerySet[Action]:
    """The user's open actions with a due date, in chains the user may still see."""
    return (
        Action.objects.filter(
            owner=user,
            status=Action.Status.OPEN,
            due__isnull=False,
            chain__in=chain_list_for_user(user),
        )
        .select_related("chain")
        .order_by("due", "pk")
    )


# iCalendar ---------------------------------------------------------------------------------


def ical_text(text: str) -> str:
    """A TEXT value (RFC 5545, 3.3.11): backslash, semicolon, comma and line breaks escaped."""
    text = strip_control(text or "").replace("\r\n", "\n").replace("\r", "\n")
    for char, escaped in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\n", "\\n")):
        text = text.replace(char, escaped)
    return text


def ical_fold(line: str) -> str:
    """A content line folded after at most 75 octets, never inside a UTF-8 character;
    each continuation starts with a space (which counts towards its 75)."""
    pieces, current, size = [], [], 0
    for char in line:
        octets = len(char.encode())
        if size + octets > LINE_OCTETS:
            pieces.append("".join(current))
            current, size = [" "], 1
        current.append(char)
        size += octets
    pieces.append("".join(current))
    return "\r\n".join(pieces)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _day(day: date) -> str:
    return day.strftime("%Y%m%d")


def host() -> str:
    """The host part of event UIDs: from SITE_URL, so that UIDs never change with the
    address a calendar happens to use."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def calendar_ics(actions: Iterable[Action], *, name: str, description: str, now: datetime) -> str:
    """The calendar: one all-day event per action on its due date."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//chainmap//actions//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ical_text(name)}",
        # Hints how often to fetch again; Google and Outlook decide for themselves.
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for action in actions:
        lines += _event(action, description=description, stamp=_stamp(now))
    lines.append("END:VCALENDAR")
    return "".join(ical_fold(line) + "\r\n" for line in lines)


def _event(action: Action, *, description: str, stamp: str) -> list[str]:
    url = site_url(action.get_absolute_url())
    text = description % {"chain": action.chain.scope_name} + "\n" + url
    if action.notes:
        text += "\n\n" + action.notes
    return [
        "BEGIN:VEVENT",
        f"UID:action-{action.pk}@{host()}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{_day(action.due)}",
        f"DTEND;VALUE=DATE:{_day(action.due + timedelta(days=1))}",
        f"SUMMARY:{ical_text(action.title)}",
        f"DESCRIPTION:{ical_text(text)}",
        f"URL:{url}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]
