"""python manage.py import_values FILE [--user NAME]: the web import, from the shell."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from customers.models import ImportBatch
from customers.services import import_batch_run


class Command(BaseCommand):
    help = "Import a customer value history (CSV or XLSX) into the database and analyse it."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", default=None, help="recorded as the uploader")

    def handle(self, *args, file: Path, user, **options):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        uploader = get_user_model().objects.filter(username=user).first() if user else None
        batch = ImportBatch.objects.create(file_name=file.name, uploaded_by=uploader)
        batch = import_batch_run(batch=batch, path=file)
        if batch.status != ImportBatch.Status.DONE:
            lines = [batch.message_text] + [
                f"  row {e.row or '-'}, column {e.column or '-'}: {e.message}"
                for e in batch.error_list
            ]
            if batch.more_errors:
                lines.append(f"  ... {batch.error_count} errors in all")
            raise CommandError("\n".join(lines))
        self.stdout.write(batch.message_text)
