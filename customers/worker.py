"""The background worker that survives its database: django_tasks_db's worker loop, run
again after a dropped connection, with abandoned imports recovered whenever it starts.

django_tasks_db's ``db_worker`` checks its connection only between tasks, and exits on
any database error other than "locked": an idle worker whose PostgreSQL restarted is
gone, and uploads wait for ever. ``run_worker`` catches such errors, closes the broken
connections, waits (1, 2, 4 ... up to 30 seconds) and starts the loop again. Before each
start it fails the tasks this worker had claimed (the job that was cut off) and lets
``services.import_batches_recover`` finish imports whose worker is gone (and
``jobs.analysis_chunks_recover`` queue again the analysis chunks of such a worker). It also queues
today's and tomorrow's reminder mails (chain/reminders.py): each day's run queues the
next, and the day's id in the queue makes sure that several workers send them once.
Webhook deliveries still to be sent are queued again (a crash may have lost their task;
one queued twice is sent once, webhooks/services.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from django.db import InterfaceError, OperationalError, connections
from django.utils import timezone

from chain.reminders import reminders_schedule
from webhooks.services import deliveries_enqueue_open

from . import jobs, services

log = logging.getLogger(__name__)

# Errors of a lost connection (psycopg: "server closed the connection unexpectedly",
# "the connection is closed"); others are bugs and stop the worker.
CONNECTION_ERRORS = (OperationalError, InterfaceError)
MAX_DELAY = 30.0


class Loop(Protocol):
    worker_id: str

    def run(self) -> None: ...


def run_worker(
    loop: Loop,
    *,
    sleep: Callable[[float], None] | None = None,
    restarts: int | None = None,
) -> int:
    """Run ``loop`` until it returns (``--batch``, ``--max-tasks``) or the process is
    stopped; ``restarts`` bounds the restarts after lost connections (tests). Returns
    how many restarts there were."""
    sleep = sleep or time.sleep
    delay, done = 1.0, 0
    while True:
        started = time.monotonic()
        try:
            _recover(loop.worker_id)
            loop.run()
            return done
        except CONNECTION_ERRORS as error:
            if restarts is not None and done >= restarts:
                raise
            if time.monotonic() - started > MAX_DELAY:
                delay = 1.0  # it ran a good while: a new outage, not the same one
            log.warning("database connection lost (%s); reconnecting in %.0f s", error, delay)
            _close_connections()
            sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
            done += 1


def _close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except Exception:  # closing a broken connection may fail; it is dropped anyway
            connection.connection = None


def _recover(worker_id: str) -> None:
    """Fail the tasks this worker had claimed, finish the imports it (or another worker
    that is gone) left running, and queue today's and tomorrow's reminder mails."""
    from django_tasks_db.models import DBTaskResult

    claimed = DBTaskResult.objects.filter(status="RUNNING").only("pk", "worker_ids")
    cut_off = [task.pk for task in claimed if task.worker_ids and task.worker_ids[-1] == worker_id]
    if cut_off:
        log.warning("tasks %s were cut off by a lost connection: marked failed", cut_off)
        DBTaskResult.objects.filter(pk__in=cut_off).update(status="FAILED")
    for batch in services.import_batches_recover(own_worker=services.worker_name()):
        log.warning("import %s (%s) recovered: %s", batch.pk, batch.file_name, batch.status)
    if jobs.analysis_chunks_recover(own_worker=services.worker_name()):
        log.warning("chunks of an analysis job queued again (their worker is gone)")
    today = timezone.localdate()
    for day in (today, today + timedelta(days=1)):
        reminders_schedule(day)
    deliveries_enqueue_open()
