"""Webhooks and their deliveries (README, "Webhooks")."""

import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# The events a hook can subscribe to, with what the administrator reads on the page.
EVENTS = [
    ("chain.submitted", _("A chain was submitted for review")),
    ("chain.approved", _("A chain was approved")),
    ("chain.returned", _("A chain was returned to its team")),
    ("customer.type_changed", _("A linked customer's value type changed")),
    ("import.finished", _("A value import finished")),
    ("action.overdue", _("An action became overdue")),
]
EVENT_NAMES = [name for name, _label in EVENTS]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def secret_new() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def url_check(url: str) -> None:
    """HTTPS only; plain HTTP to this machine when DEBUG or WEBHOOKS_ALLOW_HTTP (tests,
    a receiver on the developer's laptop)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    local_http = settings.DEBUG or settings.WEBHOOKS_ALLOW_HTTP
    if parts.scheme == "http" and local_http and parts.hostname in LOCAL_HOSTS:
        return
    raise ValidationError(_("Enter an https:// address."), code="scheme")


class Webhook(models.Model):
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500, validators=[url_check])
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("secret"), max_length=100, default=secret_new)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Deliveries in a row that failed for good (all attempts used); a success resets it.
    failure_count = models.PositiveIntegerField(_("failures in a row"), default=0)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    paused_reason = models.CharField(_("reason for the pause"), max_length=200, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name

    @property
    def paused_for_failures(self) -> bool:
        return not self.active and self.failure_count > 0 and self.paused_at is not None

    def event_labels(self) -> list[str]:
        labels = dict(EVENTS)
        return [str(labels[name]) for name in EVENT_NAMES if name in self.events]


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RETRYING = "retrying", _("retrying")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    event = models.CharField(_("event"), max_length=40)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RETRYING)
