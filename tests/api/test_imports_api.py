"""POST /api/v1/imports and GET /api/v1/imports/{id}: the web import, through the API."""

import shutil

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from api.services import token_create
from customers import forms as customer_forms
from customers.models import Customer, ImportBatch, ValueRecord
from tests.customers.conftest import FILES

# The worker's queue, as in production: the upload only queues the job.
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield settings.MEDIA_ROOT
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture
def importer(owner):
    owner.user_permissions.add(Permission.objects.get(codename="import_values"))
    return owner


def _headers(user, scope="write", **more) -> dict:
    secret = token_create(user=user, name="t", scope=scope)[1]
    return {"Authorization": f"Bearer {secret}", **more}


def _upload(client, name: str, headers: dict):
    with (FILES / name).open("rb") as fh:
        return client.post("/api/v1/imports", {"file": fh}, headers=headers)


def _run_queued_jobs() -> None:
    """What the worker does: run each queued job (as manage.py worker would)."""
    for result in DBTaskResult.objects.filter(status="READY"):
        result.task.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])


@pytest.mark.django_db
def test_an_upload_is_queued_then_run_by_the_worker_and_polled_to_done(client, importer):
    headers = _headers(importer)
    with override_settings(TASKS=DB_TASKS):
        response = _upload(client, "de_period.csv", headers)

    assert response.status_code == 202, response.content
    data = response.json()
    batch = ImportBatch.objects.get(pk=data["id"])
    assert (
        data["url"].endswith(f"/api/v1/imports/{batch.pk}") and response["Location"] == data["url"]
    )
    assert (data["status"], batch.uploaded_by, batch.file_name) == (
        "pending",
        importer,
        "de_period.csv",
    )
    assert batch.task_id and not ValueRecord.objects.exists()
    polled = client.get(data["url"], headers=headers).json()
    assert polled["status"] == "pending" and polled["progress"] == 0

    _run_queued_jobs()

    done = client.get(data["url"], headers=headers).json()
    assert done["status"] == "done", done["message"]
    assert done["progress"] == 100 and done["errors"] == [] and done["error_count"] == 0
    assert done["rows"] == ValueRecord.objects.count() > 0
    assert done["customers"] == Customer.objects.count()


@pytest.mark.django_db
def test_a_broken_file_gives_the_batchs_errors_with_rows_in_the_requesters_language(
    client, importer
):
    headers = _headers(importer, **{"Accept-Language": "de"})
    with override_settings(TASKS=DB_TASKS):
        url = _upload(client, "bad_number.csv", headers).json()["url"]
    _run_queued_jobs()

    data = client.get(url, headers=headers).json()

    assert data["status"] == "failed" and data["error_count"] >= 1
    first = data["errors"][0]
    assert (first["row"], first["column"]) == (3, "Umsatz")
    assert first["message"].startswith("Keine Zahl: „zwölf“")
    english = client.get(url, headers=_headers(importer, **{"Accept-Language": "en"})).json()
    assert english["errors"][0]["message"].startswith('Not a number: "zwölf"')
    assert not ValueRecord.objects.exists()


@pytest.mark.django_db
def test_importing_needs_the_pages_permission(client, owner):
    batch = ImportBatch.objects.create(file_name="x.csv")
    response = _upload(client, "de_period.csv", _headers(owner))
    assert response.status_code == 403
    assert client.get(f"/api/v1/imports/{batch.pk}", headers=_headers(owner)).status_code == 403
    assert ImportBatch.objects.count() == 1


@pytest.mark.django_db
def test_a_read_only_token_may_not_upload(client, importer):
    assert _upload(client, "de_period.csv", _headers(importer, scope="read")).status_code == 403
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_a_file_of_another_kind_or_too_large_is_refused_with_the_pages_message(
    client, importer, monkeypatch
):
    headers = _headers(importer, **{"Accept-Language": "de"})
    pdf = SimpleUploadedFile("values.pdf", b"%PDF-1.4")
    wrong = client.post("/api/v1/imports", {"file": pdf}, headers=headers)
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == {"file": ["Laden Sie eine .csv- oder .xlsx-Datei hoch."]}
    monkeypatch.setattr(customer_forms, "MAX_UPLOAD_MB", 0)
    too_large = _upload(client, "de_period.csv", headers)

    assert too_large.status_code == 413
    assert too_large.json()["errors"] == {"file": ["Die Datei ist größer als 0 MB."]}
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_an_unknown_batch_is_404(client, importer):
    assert client.get("/api/v1/imports/999", headers=_headers(importer)).status_code == 404
