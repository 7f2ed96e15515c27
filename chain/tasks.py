"""Background jobs of the chain app, run by the worker (``manage.py worker``)."""

from datetime import date

from django_tasks import task

from . import reminders


@task()
def reminders_task(day: str) -> int:
    """The daily reminders of ``day``, queued by `reminders.reminders_schedule`; the
    worker has claimed this day's row when it calls this."""
    return reminders.reminders_deliver(date.fromisoformat(day))
