"""The administrators' webhooks pages."""

import pytest

from tests.factories import make_user
from webhooks.models import Delivery, Webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(make_user("ada", roles=("administrator",)))
    return client


@pytest.fixture
def hook(db):
    return Webhook.objects.create(
        name="CRM", url="https://crm.example.com/h", events=["chain.approved"]
    )


def test_an_administrator_registers_a_hook(admin_client):
    response = admin_client.post(
        "/webhooks/add/",
        {"name": "CRM", "url": "https://crm.example.com/h", "events": ["chain.approved"]},
    )
    hook = Webhook.objects.get()
    assert response.status_code == 302
    assert response.url == f"/webhooks/{hook.pk}/"
    assert hook.events == ["chain.approved"]
    assert hook.created_by.username == "ada"
    assert hook.secret.startswith("whsec_")
    page = admin_client.get(response.url)
    assert hook.secret in page.content.decode()


def test_a_plain_http_url_is_refused(admin_client):
    response = admin_client.post(
        "/webhooks/add/",
        {"name": "CRM", "url": "http://crm.example.com/h", "events": ["chain.approved"]},
    )
    assert response.status_code == 200
    assert "https://" in response.content.decode()
    assert not Webhook.objects.exists()


def test_the_list_shows_recent_deliveries_and_highlights_a_hook_paused_for_failures(
    admin_client, hook
):
    Delivery.objects.create(webhook=hook, event="chain.approved", status="failed", attempts=6)
    Webhook.objects.filter(pk=hook.pk).update(
        active=False, failure_count=10, paused_at="2027-01-01T00:00Z", paused_reason="Too many"
    )
    content = admin_client.get("/webhooks/").content.decode()
    assert "webhook-failing-panel" in content
    assert "Too many" in content
    assert "delivery-failed" in content


def test_pause_resume_rotate_edit_and_delete(admin_client, hook):
    old = hook.secret
    assert admin_client.post(f"/webhooks/{hook.pk}/pause/").status_code == 302
    hook.refresh_from_db()
    assert not hook.active and hook.paused_at and not hook.paused_for_failures
    admin_client.post(f"/webhooks/{hook.pk}/resume/")
    hook.refresh_from_db()
    assert hook.active and hook.paused_at is None
    admin_client.post(f"/webhooks/{hook.pk}/rotate-secret/")
    hook.refresh_from_db()
    assert hook.secret != old
    admin_client.post(
        f"/webhooks/{hook.pk}/edit/",
        {"name": "CRM 2", "url": hook.url, "events": ["chain.approved", "import.finished"]},
    )
    hook.refresh_from_db()
    assert (hook.name, hook.events) == ("CRM 2", ["chain.approved", "import.finished"])
    confirm = admin_client.get(f"/webhooks/{hook.pk}/delete/")
    assert confirm.status_code == 200 and "Delete the webhook" in confirm.content.decode()
    assert Webhook.objects.exists()
    admin_client.post(f"/webhooks/{hook.pk}/delete/")
    assert not Webhook.objects.exists()


def test_a_superuser_reaches_the_page(client, hook):
    client.force_login(make_user("root", is_superuser=True))
    assert client.get("/webhooks/").status_code == 200


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_others_are_refused(client, hook, role):
    client.force_login(make_user("someone", roles=(role,)))
    for path in ("/webhooks/", f"/webhooks/{hook.pk}/", "/webhooks/add/"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/webhooks/{hook.pk}/delete/").status_code == 403
    assert Webhook.objects.exists()


def test_the_list_takes_the_same_queries_for_one_hook_or_many(admin_client, hook):
    """Each hook shows its last five deliveries, newest first, read for all hooks at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(7):
        Delivery.objects.create(webhook=hook, event="chain.approved", payload={"n": i})

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get("/webhooks/").status_code == 200
        return len(ctx)

    one = count()
    for i in range(6):
        other = Webhook.objects.create(
            name=f"Hook {i}", url=f"https://h{i}.example.com/", events=["import.finished"]
        )
        for _ in range(3):
            Delivery.objects.create(webhook=other, event="import.finished")
    assert count() == one
    response = admin_client.get("/webhooks/")
    recent = {h.pk: h.recent for h in response.context["hooks"]}
    assert [d.payload["n"] for d in recent[hook.pk]] == [6, 5, 4, 3, 2]
    assert all(len(r) == 3 for pk, r in recent.items() if pk != hook.pk)
