"""The webhook deliveries, sent by the worker (``manage.py worker``)."""

from django_tasks import task

from . import services


@task()
def deliver_task(delivery_id: int) -> str:
    delivery = services.delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery else "skipped"
