"""Background jobs: imports and analyses of large files run in the worker (db_worker)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils import translation
from django_tasks import task

from . import services
from .models import ImportBatch


@task()
def import_task(batch_id: int, path: str, language: str = "") -> None:
    batch = ImportBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    try:
        # Messages are stored as text: write them in the language of the uploader.
        with translation.override(language or None):
            services.import_batch_run(batch=batch, path=Path(path))
    finally:
        # The upload is kept only until it is loaded: the records are the data of record.
        Path(path).unlink(missing_ok=True)


@task()
def analyse_task(user_id: int | None) -> None:
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    services.analysis_run_create(user=user)
