"""python manage.py recover_imports: finish imports whose background worker is gone."""

from django.core.management.base import BaseCommand

from customers.services import import_batches_recover


class Command(BaseCommand):
    help = (
        "Mark imports whose worker stopped (no heartbeat for IMPORT_STALE_SECONDS) as failed, "
        "or as done with the analysis queued again when their values were loaded."
    )

    def handle(self, *args, **options):
        recovered = import_batches_recover()
        self.stdout.write(f"{len(recovered)} abandoned import(s) recovered.")
