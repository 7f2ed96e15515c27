"""Who calls the API: a personal token (Authorization: Bearer ...) or the browser session.

Both give the request's user; the endpoints then read through the same selectors as the
pages, so the API has no access rule of its own (docs/architecture.md, "The API").
"""

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from .models import ApiToken
from .services import token_find, token_used

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def scope_check(request: HttpRequest, token: ApiToken | None) -> None:
    """Refuse (403) an unsafe method called with a read-only token. Session users are
    checked by the endpoints' selectors as on the pages (edit=True)."""
    if token is not None and not token.allows(request.method):
        raise HttpError(403, "This token may only read (scope: read).")


class TokenAuth(HttpBearer):
    """A personal API token; wrong, expired and revoked tokens get 401."""

    def authenticate(self, request: HttpRequest, token: str):
        found = token_find(token)
        if found is None:
            return None
        scope_check(request, found)
        token_used(token=found)
        request.user = found.user
        request.api_token = found
        return found.user


class SessionUserAuth(SessionAuth):
    """The browser session (for the app's own pages), with Django's CSRF check on writes."""

    def authenticate(self, request: HttpRequest, key: str | None):
        request.api_token = None
        return super().authenticate(request, key)


token_auth = TokenAuth()
session_auth = SessionUserAuth(csrf=True)
