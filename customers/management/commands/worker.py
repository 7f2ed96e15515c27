"""python manage.py worker: the background worker (imports and analyses).

Takes db_worker's options; restarts its loop after a lost database connection and
recovers abandoned imports at every start (customers/worker.py).
"""

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from customers.worker import run_worker


class Command(DbWorkerCommand):
    help = (
        "Run the background worker: django_tasks_db's db_worker, restarted after a lost "
        "database connection, recovering abandoned imports whenever it starts."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # Both queues unless told: "analysis" alone for a machine that only helps with the
        # chunks of large analyses (README, "More workers").
        parser.set_defaults(queue_name="default,analysis")

    def handle(
        self,
        *,
        verbosity,
        queue_name,
        interval,
        batch,
        backend_name,
        startup_delay,
        reload,
        max_tasks,
        worker_id,
        exclude_queues,
        **options,
    ):
        self.configure_logging(verbosity)
        worker = Worker(
            queue_names=queue_name.split(","),
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
        )
        # No autoreload: a restart must not cut off a running import.
        worker.configure_signals()
        run_worker(worker)
