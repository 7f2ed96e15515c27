"""Emitting, sending and managing webhooks (README, "Webhooks").

Emitting only writes delivery rows in the caller's transaction and queues their sending
for after the commit, so a receiver that is down or slow never breaks a write. The worker
sends each delivery as one signed POST; a failure is tried again later (RETRY_DELAYS)
until WEBHOOK_MAX_ATTEMPTS, and a hook whose deliveries keep failing for good is paused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import EVENT_NAMES, Delivery, Webhook, secret_new

log = logging.getLogger(__name__)

# Seconds before the 2nd, 3rd, ... attempt; after the last one the delay stays 6 hours.
RETRY_DELAYS = [60, 300, 1800, 7200, 21600]
# Of a receiver's answer only this much is read (and a part kept as the error).
RESPONSE_READ_MAX = 4096
ERROR_MAX = 500
USER_AGENT = "chainmap-webhooks/1"


def site_url(path: str) -> str:
    """An absolute address for a payload: the worker has no request to ask."""
    return settings.SITE_URL + path


# Emitting ---------------------------------------------------------------------------------


def hooks_for(event: str) -> list[Webhook]:
    """The active hooks subscribed to `event` (events are a JSON list: filtered here, as
    SQLite has no JSON containment lookup; there are a handful of hooks)."""
    if event not in EVENT_NAMES:
        raise ValueError(f"unknown webhook event {event!r}")
    return [hook for hook in Webhook.objects.filter(active=True) if event in hook.events]


def deliveries_create(*, event: str, data: dict[str, Any]) -> list[Delivery]:
    """A delivery of `event` for each active hook subscribed to it, sent after the commit."""
    hooks = hooks_for(event)
    if not hooks:
        return []
    occurred_at = timezone.now().isoformat()
    deliveries = []
    for hook in hooks:
        delivery = Delivery.objects.create(webhook=hook, event=event)
        delivery.payload = {
            "event": event,
            "id": delivery.pk,
            "occurred_at": occurred_at,
            "data": data,
        }
        delivery.save(update_fields=["payload"])
        deliveries.append(delivery)
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: _enqueue_all(ids))
    return deliveries


def _enqueue_all(ids: list[int]) -> None:
    from .tasks import deliver_task

    for pk in ids:
        try:
            deliver_task.enqueue(pk)
        except Exception:  # the write is committed; the worker's sweep sends it later
            log.exception("webhook delivery %s not queued", pk)


def delivery_schedule(delivery: Delivery) -> bool:
    """Queue the next attempt of `delivery` at its next_attempt_at. A backend that cannot
    defer a task (the tests' immediate one) gets it only when it is due; otherwise
    `deliveries_enqueue_open` queues it when the worker starts. True if queued."""
    from .tasks import deliver_task

    when = delivery.next_attempt_at
    if deliver_task.get_backend().supports_defer:
        task = deliver_task.using(run_after=when) if when else deliver_task
        task.enqueue(delivery.pk)
        return True
    if when is None or when <= timezone.now():
        deliver_task.enqueue(delivery.pk)
        return True
    return False


def deliveries_enqueue_open() -> int:
    """Queue every delivery still to be sent (the worker calls this when it starts): the
    ones whose task was lost, e.g. a crash between a commit and its queueing. A delivery
    queued twice is sent once (see `delivery_attempt`). Returns how many were queued."""
    queued = 0
    open_ = Delivery.objects.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING])
    for delivery in open_.only("pk", "next_attempt_at"):
        queued += delivery_schedule(delivery)
    return queued


# Sending ----------------------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: str) -> str:
    """The X-Chainmap-Signature header: HMAC-SHA256 over "{timestamp}.{body}"."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx: the POST is not sent elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        return None


_opener = urllib.request.build_opener(_NoRedirects())


def _post(hook: Webhook, delivery: Delivery) -> tuple[int | None, str]:
    """Send one attempt; the receiver's status (None if there was no answer) and an error
    text ("" on success)."""
    body = json.dumps(delivery.payload, separators=(",", ":"))
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        hook.url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Chainmap-Event": delivery.event,
            "X-Chainmap-Delivery": str(delivery.pk),
            "X-Chainmap-Timestamp": timestamp,
            "X-Chainmap-Signature": signature(hook.secret, timestamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
            response.read(RESPONSE_READ_MAX)
            status = response.status
    except urllib.error.HTTPError as error:
        text = error.read(RESPONSE_READ_MAX).decode("utf-8", "replace")
        error.close()
        return error.code, f"HTTP {error.code}: {text}"[:ERROR_MAX]
    except (OSError, ValueError) as error:  # refused, timed out, TLS, DNS, bad URL
        return None, f"{type(error).__name__}: {error}"[:ERROR_MAX]
    if 200 <= status < 300:
        return status, ""
    return status, f"HTTP {status}"


def _claim(delivery_id: int, now: datetime) -> Delivery | None:
    """Take the delivery's next attempt if it is due and nobody took it meanwhile (a
    delivery queued twice is sent once)."""
    delivery = Delivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or not delivery.is_open:
        return None
    if delivery.next_attempt_at and delivery.next_attempt_at > now:
        return None
    taken = Delivery.objects.filter(
        pk=delivery.pk, status=delivery.status, attempts=delivery.attempts
    ).update(attempts=F("attempts") + 1)
    if not taken:
        return None
    delivery.attempts += 1
    return delivery


def delivery_attempt(*, delivery_id: int) -> Delivery | None:
    """Send the delivery's next attempt, if due, and record the outcome; None when there
    was nothing to do."""
    now = timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    hook = delivery.webhook
    if not hook.active:
        delivery.status, delivery.finished_at = Delivery.Status.FAILED, now
        delivery.error = _("Not sent: the webhook is paused.")
        delivery.next_attempt_at = None
        delivery.save(update_fields=["status", "finished_at", "error", "next_attempt_at"])
        return delivery
    status, error = _post(hook, delivery)
    delivery.response_status, delivery.error = status, error
    if not error:
        _succeeded(delivery)
    elif delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        _retry_later(delivery)
    else:
        _failed(delivery)
    return delivery


def _succeeded(delivery: Delivery) -> None:
    delivery.status, delivery.finished_at = Delivery.Status.SUCCEEDED, timezone.now()
    delivery.next_attempt_at = None
    delivery.save(
        update_fields=["status", "finished_at", "next_attempt_at", "response_status", "error"]
    )
    Webhook.objects.filter(pk=delivery.webhook_id, failure_count__gt=0).update(failure_count=0)


def _retry_later(delivery: Delivery) -> None:
    delay = RETRY_DELAYS[min(delivery.attempts, len(RETRY_DELAYS)) - 1]
    delivery.status = Delivery.Status.RETRYING
    delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    delivery.save(update_fields=["status", "next_attempt_at", "response_status", "error"])
    delivery_schedule(delivery)


def _failed(delivery: Delivery) -> None:
    delivery.status, delivery.finished_at = Delivery.Status.FAILED, timezone.now()
    delivery.next_attempt_at = None
    delivery.save(
        update_fields=["status", "finished_at", "next_attempt_at", "response_status", "error"]
    )
    Webhook.objects.filter(pk=delivery.webhook_id).update(failure_count=F("failure_count") + 1)
    hook = Webhook.objects.get(pk=delivery.webhook_id)
    if hook.active and hook.failure_count >= settings.WEBHOOK_PAUSE_AFTER:
        reason = _("Paused after %(n)s failed deliveries in a row.") % {"n": hook.failure_count}
        webhook_pause(webhook=hook, reason=reason)
        log.warning("webhook %s (%s) paused: %s", hook.pk, hook.url, reason)


# Managing ---------------------------------------------------------------------------------


def webhook_pause(*, webhook: Webhook, reason: str = "") -> None:
    webhook.active, webhook.paused_at, webhook.paused_reason = False, timezone.now(), reason
    webhook.save(update_fields=["active", "paused_at", "paused_reason"])


def webhook_resume(*, webhook: Webhook) -> None:
    """Active again, with a fresh failure count; deliveries given up meanwhile stay so."""
    webhook.active, webhook.paused_at, webhook.paused_reason = True, None, ""
    webhook.failure_count = 0
    webhook.save(update_fields=["active", "paused_at", "paused_reason", "failure_count"])


def webhook_secret_rotate(*, webhook: Webhook) -> str:
    """A new secret, in force for the next attempt of every delivery."""
    webhook.secret = secret_new()
    webhook.save(update_fields=["secret"])
    return webhook.secret
