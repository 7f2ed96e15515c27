"""Sending deliveries: signature, retries with backoff, pausing a failing hook."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from webhooks import emit, services
from webhooks.models import Delivery, Webhook
from webhooks.tasks import deliver_task

from .receiver import Receiver

pytestmark = pytest.mark.django_db

DATA = {"chain": {"id": 7, "name": "Mounting glue"}}


def _hook(url: str, events=("chain.approved",), **fields) -> Webhook:
    return Webhook.objects.create(name="CRM", url=url, events=list(events), **fields)


def test_a_delivery_is_signed_and_the_receiver_verifies_it(django_capture_on_commit_callbacks):
    hook = _hook("http://127.0.0.1:1/")
    with Receiver(secret=hook.secret) as receiver:
        Webhook.objects.filter(pk=hook.pk).update(url=receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            emit("chain.approved", DATA)
    delivery = Delivery.objects.get()
    assert [r["verified"] for r in receiver.received] == [True]
    headers = receiver.received[0]["headers"]
    assert headers["X-Chainmap-Event"] == "chain.approved"
    assert headers["X-Chainmap-Delivery"] == str(delivery.pk)
    payload = receiver.payloads()[0]
    assert payload["event"] == "chain.approved"
    assert payload["id"] == delivery.pk
    assert payload["data"] == DATA
    assert "occurred_at" in payload
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)
    assert delivery.finished_at is not None


def test_a_wrong_secret_fails_the_receivers_check(django_capture_on_commit_callbacks):
    with Receiver(secret="not-the-hooks") as receiver:
        _hook(receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            emit("chain.approved", DATA)
    assert [r["verified"] for r in receiver.received] == [False]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.response_status) == ("retrying", 401)


def test_the_signature_covers_timestamp_and_body():
    expected = services.signature("s3cret", "1700000000", '{"a":1}')
    assert expected.startswith("sha256=")
    assert services.signature("s3cret", "1700000001", '{"a":1}') != expected
    assert services.signature("s3cret", "1700000000", '{"a":2}') != expected


def test_a_failing_receiver_gets_a_retry_with_backoff_then_succeeds(
    django_capture_on_commit_callbacks,
):
    hook = _hook("http://127.0.0.1:1/")
    with Receiver(secret=hook.secret, statuses=[500, 503]) as receiver:
        Webhook.objects.filter(pk=hook.pk).update(url=receiver.url)
        before = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            emit("chain.approved", DATA)
        after = timezone.now()
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.response_status) == (
            "retrying",
            1,
            500,
        )
        assert "HTTP 500" in delivery.error
        # The first retry waits a minute.
        wait = delivery.next_attempt_at
        assert before + timedelta(seconds=60) <= wait <= after + timedelta(seconds=60)
        # Not due yet: a task that runs early (queued twice, say) sends nothing.
        assert deliver_task.call(delivery.pk) == "skipped"
        assert len(receiver.received) == 1
        # A minute later: fails again, the next wait is five minutes.
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert deliver_task.call(delivery.pk) == "retrying"
        delivery.refresh_from_db()
        assert delivery.attempts == 2
        assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=290)
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert deliver_task.call(delivery.pk) == "succeeded"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == ("succeeded", 3, "")
    assert delivery.next_attempt_at is None
    assert [r["verified"] for r in receiver.received] == [True, True, True]


@override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}})
def test_a_retry_is_queued_as_a_task_deferred_to_its_time():
    from django_tasks import default_task_backend

    with Receiver(statuses=[500]) as receiver:
        hook = _hook(receiver.url)
        receiver.secret = hook.secret
        delivery = services.deliveries_create(event="chain.approved", data=DATA)[0]
        services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    queued = default_task_backend.results
    assert [(r.args, r.task.run_after) for r in queued] == [
        ([delivery.pk], delivery.next_attempt_at)
    ]
    default_task_backend.clear()


@override_settings(WEBHOOK_MAX_ATTEMPTS=1, WEBHOOK_PAUSE_AFTER=3)
def test_a_hook_failing_for_good_n_times_is_paused(django_capture_on_commit_callbacks):
    with Receiver(statuses=[500] * 10) as receiver:
        hook = _hook(receiver.url)
        receiver.secret = hook.secret
        for n in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                emit("chain.approved", DATA)
            hook.refresh_from_db()
            assert hook.failure_count == n + 1
        assert not hook.active
        assert hook.paused_for_failures
        assert "3 failed deliveries" in hook.paused_reason
        # Paused: the next event makes no delivery.
        with django_capture_on_commit_callbacks(execute=True):
            assert emit("chain.approved", DATA) == 0
    assert len(receiver.received) == 3
    assert list(Delivery.objects.values_list("status", flat=True)) == ["failed"] * 3


@override_settings(WEBHOOK_MAX_ATTEMPTS=1, WEBHOOK_PAUSE_AFTER=2)
def test_a_success_resets_the_failure_count(django_capture_on_commit_callbacks):
    with Receiver(statuses=[500, 200, 500]) as receiver:
        hook = _hook(receiver.url)
        receiver.secret = hook.secret
        for _ in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                emit("chain.approved", DATA)
    hook.refresh_from_db()
    assert (hook.active, hook.failure_count) == (True, 1)


def test_an_unreachable_receiver_is_retried(django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        url = receiver.url  # closed again below: nothing listens there
    _hook(url)
    with django_capture_on_commit_callbacks(execute=True):
        emit("chain.approved", DATA)
    delivery = Delivery.objects.get()
    assert delivery.status == "retrying"
    assert delivery.response_status is None
    assert delivery.error


def test_a_delivery_of_a_paused_hook_is_not_sent():
    hook = _hook("http://127.0.0.1:1/")
    delivery = services.deliveries_create(event="chain.approved", data=DATA)[0]
    services.webhook_pause(webhook=hook, reason="by hand")
    services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == ("failed", None)
    hook.refresh_from_db()
    assert hook.failure_count == 0


def test_http_urls_are_refused_unless_local_and_allowed():
    from django.core.exceptions import ValidationError

    from webhooks.models import url_check

    url_check("https://crm.example.com/hooks")
    url_check("http://127.0.0.1:8001/")
    with pytest.raises(ValidationError):
        url_check("http://crm.example.com/hooks")
    with override_settings(WEBHOOKS_ALLOW_HTTP=False, DEBUG=False), pytest.raises(ValidationError):
        url_check("http://127.0.0.1:8001/")
