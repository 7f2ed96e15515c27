"""Where the events are emitted: one delivery per active subscribed hook, none else."""

from datetime import date, timedelta

import pytest

from chain import actions, services
from chain.reminders import overdue_emit
from webhooks.models import Delivery, Webhook

pytestmark = pytest.mark.django_db


def _hook(name: str, events: list[str], active: bool = True) -> Webhook:
    return Webhook.objects.create(
        name=name, url="https://crm.example.com/" + name, events=events, active=active
    )


def test_approving_makes_one_delivery_per_subscribed_active_hook(chain, owner, manager):
    crm = _hook("crm", ["chain.approved", "chain.returned"])
    chat = _hook("chat", ["chain.approved"])
    _hook("paused", ["chain.approved"], active=False)
    _hook("other", ["import.finished"])
    services.chain_submit(chain=chain, user=owner)
    assert not Delivery.objects.exists()  # nobody subscribed to chain.submitted
    services.chain_approve(chain=chain, user=manager)
    deliveries = Delivery.objects.filter(event="chain.approved").order_by("webhook__name")
    assert [d.webhook for d in deliveries] == [chat, crm]
    assert Delivery.objects.count() == 2
    payload = deliveries[0].payload
    assert payload["id"] == deliveries[0].pk
    assert payload["event"] == "chain.approved"
    assert payload["data"]["chain"]["id"] == chain.pk
    assert payload["data"]["chain"]["name"] == chain.scope_name
    assert payload["data"]["chain"]["url"].endswith(f"/chains/{chain.pk}/")
    assert payload["data"]["by"]["username"] == manager.username


def test_a_refused_approval_makes_no_delivery(chain, owner):
    _hook("crm", ["chain.approved"])
    services.chain_submit(chain=chain, user=owner)
    with pytest.raises(Exception):  # noqa: B017 - four eyes: the submitter may not approve
        services.chain_approve(chain=chain, user=owner)
    assert not Delivery.objects.exists()


def test_submit_and_return_are_emitted(chain, owner, manager):
    _hook("crm", ["chain.submitted", "chain.returned"])
    services.chain_submit(chain=chain, user=owner)
    services.chain_return(chain=chain, user=manager, comment="Who decides at the retailer?")
    events = list(Delivery.objects.order_by("pk").values_list("event", flat=True))
    assert events == ["chain.submitted", "chain.returned"]
    returned = Delivery.objects.get(event="chain.returned").payload["data"]
    assert returned["comment"] == "Who decides at the retailer?"


def test_an_action_is_overdue_once_on_the_day_after_its_due_date(chain, owner):
    _hook("crm", ["action.overdue"])
    today = date(2027, 3, 10)
    due_yesterday = actions.action_create(
        chain=chain, user=owner, title="Call", owner=owner, due=today - timedelta(days=1)
    )
    actions.action_create(
        chain=chain, user=owner, title="Older", owner=owner, due=today - timedelta(days=2)
    )
    actions.action_create(chain=chain, user=owner, title="Today", owner=owner, due=today)
    assert overdue_emit(today) == 1
    data = Delivery.objects.get().payload["data"]
    assert data["action"]["id"] == due_yesterday.pk
    assert data["action"]["due"] == "2027-03-09"
    assert data["chain"]["id"] == chain.pk


def test_no_delivery_without_a_subscriber(chain, owner):
    _hook("crm", ["chain.approved"])
    actions.action_create(chain=chain, user=owner, title="Call", owner=owner, due=date(2027, 3, 9))
    assert overdue_emit(date(2027, 3, 10)) == 0
    assert not Delivery.objects.exists()


def test_an_unknown_event_is_a_bug():
    import webhooks

    with pytest.raises(ValueError):
        webhooks.emit("chain.deleted", {})


def test_a_finished_import_is_emitted(owner):
    from customers.models import ImportBatch
    from customers.services import import_finished_emit

    _hook("crm", ["import.finished"])
    batch = ImportBatch.objects.create(
        file_name="values.csv", uploaded_by=owner, status=ImportBatch.Status.DONE, rows=12
    )
    import_finished_emit(batch)
    data = Delivery.objects.get(event="import.finished").payload["data"]
    assert data["import"]["id"] == batch.pk
    assert (data["import"]["status"], data["import"]["rows"]) == ("done", 12)
    assert data["import"]["url"].endswith(f"/customers/import/{batch.pk}/")
