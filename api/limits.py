"""Limits on API calls: request rates per caller and the size of a request body.

Rates come from the settings API_RATE_READ (GET, HEAD, OPTIONS), API_RATE_WRITE (every
other method) and API_RATE_ANON (requests that fail authentication, per client address),
each "<count>/<period>" such as "120/min", or empty for no limit. They count in Django's
cache with django-ninja's own sliding window (ninja.throttling), one window per caller:
the token for a token request, the user for a session request, the client address
(config.middleware.client_ip) for anyone else. Over the limit the API answers 429 with
Retry-After and a JSON message. README, "API limits", lists the settings.

The settings are read at each request, so tests can change them with override_settings.
"""

import math
import re
import threading
from datetime import UTC, datetime
from typing import Annotated

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.parser import Parser
from ninja.throttling import BaseThrottle, SimpleRateThrottle
from pydantic import AfterValidator

from config.middleware import client_ip

from .auth import SAFE_METHODS

API_PREFIX = "/api/v1/"

# An id in a filter: positive and within the database's 64-bit integers (a larger number
# would make the query fail instead of finding nothing).
DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _in_utc(value: datetime) -> datetime:
    """The moment in UTC (naive: in TIME_ZONE). PostgreSQL refuses offsets beyond 15:59,
    and a moment near year 1 or 9999 may not exist in UTC: both are a 422, not a 500."""
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise ValueError("date-time out of range") from error


# A date-time in a filter, as the database can compare it.
UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]


def caller_key(request: HttpRequest) -> str:
    """Whose window a request counts in: its token, else its session user, else its
    client address."""
    token = getattr(request, "api_token", None)
    if token is not None:
        return f"token:{token.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request) or 'unknown'}"


class _Window(SimpleRateThrottle):
    """One request's look at one caller's window (ninja's sliding window in the cache)."""

    def __init__(self, rate: str, key: str):
        self._key = key
        super().__init__(rate)

    def get_cache_key(self, request: HttpRequest) -> str:
        return self._key


class RateLimit(BaseThrottle):
    """The rate in settings.<setting> for the requests `applies` selects.

    ninja keeps one throttle object per API and asks it allow_request() and then wait(),
    so the state of the request being checked lives in a thread-local (gunicorn runs
    several threads per process)."""

    def __init__(
        self, scope: str, setting: str, methods: tuple[str, ...] | None = None, unsafe: bool = False
    ):
        self.scope = scope
        self.setting = setting
        self.methods = methods
        self.unsafe = unsafe
        self._state = threading.local()

    def applies(self, request: HttpRequest) -> bool:
        if self.methods is None:
            return True
        return (request.method in self.methods) != self.unsafe

    def allow_request(self, request: HttpRequest) -> bool:
        self._state.window = None
        rate = getattr(settings, self.setting, None)
        if not rate or not self.applies(request):
            return True
        window = _Window(rate, f"api_rate:{self.scope}:{caller_key(request)}")
        self._state.window = window
        return window.allow_request(request)

    def wait(self) -> float | None:
        window = getattr(self._state, "window", None)
        return window.wait() if window is not None else None


read_limit = RateLimit("read", "API_RATE_READ", methods=SAFE_METHODS)
write_limit = RateLimit("write", "API_RATE_WRITE", methods=SAFE_METHODS, unsafe=True)
anon_limit = RateLimit("anon", "API_RATE_ANON")

# For NinjaAPI(throttle=...): every operation, also those of routers added later.
THROTTLES = [read_limit, write_limit]


def _too_many(api: NinjaAPI, request: HttpRequest, wait: float | None) -> HttpResponse:
    seconds = max(1, math.ceil(wait)) if wait is not None else None
    if seconds is None:
        message = _("Too many requests. Please wait a little before trying again.")
    else:
        message = _("Too many requests. Please try again in %(seconds)d seconds.") % {
            "seconds": seconds
        }
    response = api.create_response(request, {"detail": message}, status=429)
    if seconds is not None:
        response["Retry-After"] = str(seconds)
    return response


def install(api: NinjaAPI) -> None:
    """The API's answers to limits and malformed requests: JSON, never Django's HTML
    error pages."""

    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        return _too_many(api, request, exc.wait)

    def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        # Failed authentication counts per client address: guessing tokens is slow.
        if not anon_limit.allow_request(request):
            return _too_many(api, request, anon_limit.wait())
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)

    def too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
        return body_too_big(request)

    def suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Too many query parameters and the like (Django's request limits).
        return api.create_response(
            request, {"detail": _("The request could not be read.")}, status=400
        )

    api.add_exception_handler(Throttled, throttled)
    api.add_exception_handler(AuthenticationError, unauthorized)
    api.add_exception_handler(RequestDataTooBig, too_big)
    api.add_exception_handler(SuspiciousOperation, suspicious)


def max_body_size() -> int:
    return int(getattr(settings, "API_MAX_BODY_SIZE", settings.DATA_UPLOAD_MAX_MEMORY_SIZE))


def body_too_big(request: HttpRequest) -> JsonResponse:
    limit = max_body_size()
    return JsonResponse(
        {"detail": _("The request body is too large: at most %(limit)d bytes.") % {"limit": limit}},
        status=413,
    )


# Control characters other than tab and line breaks, and lone UTF-16 surrogates (which JSON
# can write as \ud800): no text needs them, and PostgreSQL refuses NUL and the surrogates
# (an error 500 where the text reached a query).
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _readable(value: object) -> bool:
    if isinstance(value, str):
        return _UNREADABLE.search(value) is None
    if isinstance(value, dict):
        return all(_readable(k) and _readable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_readable(v) for v in value)
    return True


class StrictParser(Parser):
    """ninja's parser of query parameters and JSON bodies, refusing (400) text with
    control characters or lone surrogates in any key or value."""

    def _check(self, data):
        if not _readable(data):
            raise HttpError(400, _("The request contains control characters or invalid text."))
        return data

    def parse_body(self, request: HttpRequest):
        # A body that is not JSON, or not readable text, is a 400 (ninja: "Cannot parse
        # request body"), whatever its content type.
        return self._check(super().parse_body(request))

    def parse_querydict(self, data, list_fields, request: HttpRequest):
        return self._check(super().parse_querydict(data, list_fields, request))


class ApiRequestLimitsMiddleware:
    """For requests under /api/v1/: a body larger than API_MAX_BODY_SIZE gets 413 before
    anything reads it, and an address no endpoint has (such as /api/v1/chains/abc) gets a
    JSON 404 instead of the app's HTML page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # as Django reads it: no body
        if length > max_body_size():
            return body_too_big(request)
        response = self.get_response(request)
        if response.status_code == 404 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return JsonResponse({"detail": _("Not found.")}, status=404)
        return response
