"""Background jobs: imports and analyses of large files run in the worker
(``manage.py worker``, see customers/worker.py)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django_tasks import task

from . import jobs, services
from .models import ImportBatch


@task()
def import_task(batch_id: int, path: str, language: str = "") -> None:
    # ``language`` is no longer needed (messages are stored as codes and put into words
    # when shown); it stays in the signature for tasks queued before.
    batch = ImportBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    if batch.status != ImportBatch.Status.PENDING:
        # Given up meanwhile (see services.import_batches_recover), or run already.
        Path(path).unlink(missing_ok=True)
        return
    try:
        services.import_batch_run(batch=batch, path=Path(path))
    finally:
        # The upload is kept only until it is loaded: the records are the data of record.
        Path(path).unlink(missing_ok=True)


@task()
def analyse_task(user_id: int | None) -> None:
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    services.analysis_run_create(user=user)


@task()
def backtest_task(run_id: int) -> None:
    from .models import AnalysisRun

    run = AnalysisRun.objects.filter(pk=run_id).first()
    if run is not None:
        services.analysis_run_backtest(run)


@task(queue_name="analysis")
def analysis_chunk_task(chunk_id: int, pass_number: int) -> None:
    """One pass of one chunk of a large analysis (customers/jobs.py)."""
    jobs.chunk_run(chunk_id, pass_number)
