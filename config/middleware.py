"""One log line per request, instead of gunicorn's access log; the client's address."""

import ipaddress
import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("chainmap.request")

# Health checks come every few seconds: logged at DEBUG, so they don't drown the log.
QUIET_PATHS = ("/health/",)
# Secrets in paths: the calendar feed's address is its key (chain/calendar.py), so it never
# reaches the log.
SECRET_PATHS = re.compile(r"(/calendar/)[^/]+(\.ics)$")


class RequestLogMiddleware:
    """Logs method, path, status, duration and user of every request to chainmap.request.

    First in MIDDLEWARE, so that the duration covers all other middleware and responses
    made by middleware (the HTTPS redirect) are logged too; the user is read after the
    response, when AuthenticationMiddleware has put it on the request. Static files are
    not logged.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        if request.path.startswith(self.static_prefix):
            return response
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
        path = SECRET_PATHS.sub(r"\1…\2", request.path)
        logger.log(
            level,
            "%s %s %s %.1f ms",
            request.method,
            path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
            },
        )
        return response


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id; None when anonymous or when the session can't be read."""
    user = getattr(request, "user", None)
    try:
        return user.pk if user is not None and user.is_authenticated else None
    except DatabaseError:
        # A session cookie on a public page when the database is down (the health check).
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client that sent `request`, as far as the deployment can vouch.

    Directly reached (TRUSTED_PROXY_COUNT = 0), that is REMOTE_ADDR, and X-Forwarded-For is
    ignored: any client can write one. Behind n trusted proxies each of them appends the
    address it was reached from to X-Forwarded-For, so the n-th entry from the right is the
    one the outermost proxy saw; entries left of it come from the client and prove nothing.
    A header too short or not an address falls back to REMOTE_ADDR (the proxy's address).
    """
    remote = request.META.get("REMOTE_ADDR") or None
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < count:
        return remote
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
