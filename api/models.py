"""Personal API tokens: a user's key for the JSON API (docs/architecture.md, "The API")."""

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# How many characters of the secret are kept in clear, so that people recognise a token.
PREFIX_LENGTH = 8
# last_used_at is written at most this often, so that a busy client costs no write per call.
LAST_USED_EVERY = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", _("read only")
        WRITE = "write", _("read and write")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH)
    # Only the SHA-256 of the secret: a leaked database does not give the tokens away.
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.READ)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]
        permissions = [("manage_all_tokens", _("Can see and revoke every user's API tokens"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.hash, token_hash(secret))

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"

    def allows(self, method: str) -> bool:
        """Read-only tokens may only read (GET, HEAD, OPTIONS)."""
        return self.scope == self.Scope.WRITE or method in ("GET", "HEAD", "OPTIONS")
