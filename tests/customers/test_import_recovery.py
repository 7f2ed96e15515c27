"""A killed worker leaves no import "running" for ever: an import whose heartbeat stopped
is finished with a message (and its upload removed) when its page is polled, when a worker
starts, or by `manage.py recover_imports`; the worker survives a lost connection."""

import subprocess
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from customers import services
from customers.models import AnalysisRun, ImportBatch
from customers.tasks import import_task
from customers.worker import run_worker
from tests.customers.conftest import FILES

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _abandoned(media_root, *, progress=40, worker="gone-host:4242", age=600, **fields):
    upload = media_root / "imports" / "waiting.csv"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_text("customer,period,revenue\n")
    return ImportBatch.objects.create(
        file_name="values.csv",
        status="running",
        progress=progress,
        worker=worker,
        heartbeat_at=timezone.now() - timedelta(seconds=age),
        upload=str(upload),
        **fields,
    )


@pytest.mark.django_db
def test_a_job_killed_while_loading_fails_when_its_page_is_polled(
    client_importer, htmx_headers, media_root
):
    batch = _abandoned(media_root)

    body = client_importer.get(f"/customers/import/{batch.pk}/", headers=htmx_headers)
    body = body.content.decode()

    batch.refresh_from_db()
    assert batch.status == "failed" and batch.outcome["code"] == "interrupted"
    assert "the background worker stopped while it loaded the file" in body
    assert "hx-trigger" not in body  # the page stops asking
    assert not (media_root / "imports" / "waiting.csv").exists()


@pytest.mark.django_db
def test_a_job_killed_while_analysing_is_done_and_the_analysis_runs_again(
    client_importer, analysed, media_root
):
    runs = AnalysisRun.objects.count()
    batch = _abandoned(media_root, progress=80, rows=1080, customers=60)

    body = client_importer.get(f"/customers/import/{batch.pk}/").content.decode()

    batch.refresh_from_db()
    assert batch.status == "done" and batch.progress == 100
    assert "1,080 rows imported for 60 customers. The analysis was interrupted" in body
    assert AnalysisRun.objects.count() == runs + 1  # queued again (run at once in tests)


@pytest.mark.django_db
def test_a_job_with_a_fresh_heartbeat_is_left_running(client_importer, htmx_headers, media_root):
    batch = _abandoned(media_root, age=5)

    body = client_importer.get(f"/customers/import/{batch.pk}/", headers=htmx_headers)

    batch.refresh_from_db()
    assert batch.status == "running" and 'hx-trigger="every 1s"' in body.content.decode()


@pytest.mark.django_db
def test_a_silent_job_whose_worker_still_lives_on_this_host_is_left_running(media_root):
    # On SQLite the load's transaction can hold the lock the heartbeat needs.
    batch = _abandoned(media_root, worker=services.worker_name())

    assert services.import_batches_recover() == []
    batch.refresh_from_db()
    assert batch.status == "running"


@pytest.mark.django_db
def test_a_silent_job_whose_worker_process_is_gone_is_recovered(media_root):
    host = services.worker_name().rpartition(":")[0]
    batch = _abandoned(media_root, worker=f"{host}:{_dead_pid()}")

    assert [b.pk for b in services.import_batches_recover()] == [batch.pk]


@pytest.mark.django_db
def test_the_command_recovers_abandoned_jobs_and_fails_their_tasks(media_root, capsys):
    with override_settings(TASKS=DB_TASKS):
        task = import_task.enqueue(0, "nowhere.csv")
    DBTaskResult.objects.filter(pk=task.id).update(status="RUNNING", worker_ids=["dead"])
    batch = _abandoned(media_root, task_id=str(task.id))

    call_command("recover_imports")

    assert "1 abandoned import(s) recovered." in capsys.readouterr().out
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert DBTaskResult.objects.get(pk=task.id).status == "FAILED"


@pytest.mark.django_db
def test_a_waiting_import_whose_task_failed_is_given_up(client_importer, media_root):
    with override_settings(TASKS=DB_TASKS):
        task = import_task.enqueue(0, "nowhere.csv")
    DBTaskResult.objects.filter(pk=task.id).update(status="FAILED")
    batch = ImportBatch.objects.create(file_name="v.csv", task_id=str(task.id))

    body = client_importer.get(f"/customers/import/{batch.pk}/").content.decode()

    batch.refresh_from_db()
    assert batch.status == "failed" and "ended without importing the file" in body


class _Loop:
    """A worker loop that loses its database ``failures`` times, then finishes."""

    worker_id = "test-worker"

    def __init__(self, failures: int) -> None:
        self.failures, self.runs = failures, 0

    def run(self) -> None:
        self.runs += 1
        if self.runs <= self.failures:
            raise OperationalError("server closed the connection unexpectedly")


# Transactional: the worker closes its broken connections, which a test transaction
# would not survive.
@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_lost_connections_and_recovers_its_own_job(media_root):
    # The job this worker ran when the connection dropped: fresh heartbeat, own process.
    batch = _abandoned(media_root, worker=services.worker_name(), age=1)
    waits = []
    loop = _Loop(failures=3)

    assert run_worker(loop, sleep=waits.append, restarts=10) == 3

    assert loop.runs == 4 and waits == [1.0, 2.0, 4.0]
    batch.refresh_from_db()
    assert batch.status == "failed"


@pytest.mark.django_db
def test_a_bug_is_not_mistaken_for_a_lost_connection():
    class Broken(_Loop):
        def run(self) -> None:
            raise ValueError("bug")

    with pytest.raises(ValueError):
        run_worker(Broken(0), sleep=lambda s: None, restarts=10)


@pytest.mark.django_db(transaction=True)
def test_the_worker_command_runs_an_import_after_the_database_went_away(
    client_importer, media_root, monkeypatch
):
    """db_worker itself exits on the first error of a lost database; `manage.py worker`
    reconnects and runs the waiting import."""
    from django_tasks_db.models import DBTaskResultQuerySet

    real = DBTaskResultQuerySet.get_locked
    calls = []

    def flaky(self):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("could not connect to server: Connection refused")
        return real(self)

    monkeypatch.setattr(DBTaskResultQuerySet, "get_locked", flaky)
    monkeypatch.setattr("customers.worker.time.sleep", lambda seconds: None)
    with override_settings(TASKS=DB_TASKS):
        with (FILES / "en_period.csv").open("rb") as upload:
            client_importer.post("/customers/import/", {"file": upload})
        batch = ImportBatch.objects.get()
        assert batch.status == "pending" and batch.task_id

        call_command("worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    batch.refresh_from_db()
    assert batch.status == "done", batch.message_text
    assert len(calls) >= 2
