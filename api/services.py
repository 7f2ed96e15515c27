"""Writes: creating, using and revoking API tokens."""

import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from .models import LAST_USED_EVERY, PREFIX_LENGTH, ApiToken, token_hash


def token_create(
    *, user: AbstractBaseUser, name: str, scope: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token and its secret: the secret is shown once and never stored."""
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        scope=scope,
        expires_at=expires_at,
        prefix=secret[:PREFIX_LENGTH],
        hash=token_hash(secret),
    )
    token.full_clean()
    token.save()
    return token, secret


def token_find(secret: str) -> ApiToken | None:
    """The active token of an active user with this secret, or None."""
    if not secret:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(hash=token_hash(secret), revoked_at=None, user__is_active=True)
        .first()
    )
    if token is None or not token.matches(secret) or not token.is_active():
        return None
    return token


def token_used(*, token: ApiToken) -> None:
    """Note the use, at most once a minute (the row as loaded tells whether it is due)."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return
    stale = Q(last_used_at=None) | Q(last_used_at__lt=now - LAST_USED_EVERY)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


def token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
