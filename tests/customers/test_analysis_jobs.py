"""The analysis of the stored values as chunk tasks (customers/jobs.py) equals the one in
one process, survives a failing chunk, and shows no run before its last chunk is done."""

import math

import pandas as pd
import pytest
from django.db.models import F

from customers import jobs, services, synthetic
from customers.models import AnalysisChunk, AnalysisJob, AnalysisRun, Assessment, ValueRecord
from customers.selectors import latest_run, run_subquery

AS_OF = pd.Timestamp("2024-12-01")
N_CUSTOMERS = 300
CHUNK = 70  # five chunks


@pytest.fixture
def values(db):
    history, _, _ = synthetic.generate(N_CUSTOMERS, seed=11, as_of=AS_OF, months=30, hard=True)
    history = history.copy()
    ids = history["customer_id"].astype(str)
    # Numbers a database collation sorts other than by code point (case, punctuation).
    history["customer_id"] = ids.where(ids.str[-1] != "3", "k-" + ids.str.lower())
    history.loc[history["customer_id"].str[-1] == "7", "margin"] = float("nan")
    services.value_records_load(history=history)
    return history


@pytest.fixture
def chunked(settings):
    settings.ANALYSIS_CHUNK_CUSTOMERS_DB = 100
    settings.ANALYSIS_CHUNK_SIZE_DB = CHUNK
    return settings


def _one_process(settings):
    limit = settings.ANALYSIS_CHUNK_CUSTOMERS_DB
    settings.ANALYSIS_CHUNK_CUSTOMERS_DB = 0
    run = services.analysis_run_create(as_of=AS_OF)
    settings.ANALYSIS_CHUNK_CUSTOMERS_DB = limit
    return run


def _chunked_run(capture):
    with capture(execute=True):
        assert services.analysis_run_create(as_of=AS_OF) is None  # not done before commit
    job = AnalysisJob.objects.get()
    assert job.status == AnalysisJob.Status.DONE, job.error
    return job


def _assessments(run):
    return {
        a.customer.number: a for a in Assessment.objects.filter(run=run).select_related("customer")
    }


def _close(a, b):
    if a is None or b is None:
        return a is b
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _same_figures(a, b):
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, list):
            assert len(x) == len(y) and all(_close(p, q) for p, q in zip(x, y, strict=True)), key
        elif isinstance(x, float) or isinstance(y, float):
            assert _close(float(x), float(y)), (key, x, y)
        else:
            assert x == y, key


def test_the_chunked_job_equals_the_one_process_run(
    values, chunked, django_capture_on_commit_callbacks
):
    whole = _one_process(chunked)
    job = _chunked_run(django_capture_on_commit_callbacks)
    assert job.chunks == 5 and job.run is not None
    assert job.run.customers == whole.customers == N_CUSTOMERS
    assert job.run.backtest == {"status": "on_request"}
    one, parts = _assessments(whole), _assessments(job.run)
    assert one.keys() == parts.keys()
    types = set()
    for number, a in one.items():
        b = parts[number]
        types.add(a.value_type)
        assert (a.value_type, a.hidden_pearl, a.cost_review) == (
            b.value_type,
            b.hidden_pearl,
            b.cost_review,
        ), number
        assert _close(a.current_value, b.current_value), number
        assert _close(a.future_value, b.future_value), number
        _same_figures(a.figures, b.figures)
    assert len(types) >= 3  # a portfolio of mixed types
    assert latest_run() == job.run
    assert jobs.job_progress(job) == (15, 15)
    # The parts and the histories kept between the passes are dropped.
    assert not AnalysisChunk.objects.exclude(parts=None).exists()
    assert not AnalysisChunk.objects.exclude(history=None).exists()


def test_a_chunk_that_raises_once_is_tried_again(
    values, chunked, django_capture_on_commit_callbacks, monkeypatch
):
    real, failed = jobs._pass, []

    def flaky(chunk, pass_number, history):
        if chunk.index == 1 and pass_number == 3 and not failed:
            failed.append(chunk.pk)
            raise RuntimeError("worker trouble")
        return real(chunk, pass_number, history)

    monkeypatch.setattr(jobs, "_pass", flaky)
    job = _chunked_run(django_capture_on_commit_callbacks)
    assert failed
    assert AnalysisChunk.objects.get(pk=failed[0]).attempts == 2
    assert job.run.customers == N_CUSTOMERS


def test_a_chunk_that_always_raises_fails_the_job_without_a_run(
    values, chunked, django_capture_on_commit_callbacks, monkeypatch
):
    chunked.ANALYSIS_CHUNK_ATTEMPTS = 2

    def broken(chunk, pass_number, history):
        raise RuntimeError("always")

    monkeypatch.setattr(jobs, "_pass", broken)
    with django_capture_on_commit_callbacks(execute=True):
        services.analysis_run_create(as_of=AS_OF)
    job = AnalysisJob.objects.get()
    assert job.status == AnalysisJob.Status.FAILED
    assert "always" in job.error
    assert AnalysisChunk.objects.get(index=0).attempts == 2
    assert not AnalysisRun.objects.exists()


def test_no_run_is_visible_before_the_last_chunk_and_progress_counts(values, chunked, admin_client):
    before = _one_process(chunked)
    job = jobs.analysis_job_start(as_of=AS_OF)  # queued after a commit that never comes here
    chunks = list(job.chunk_set.order_by("index"))
    assert jobs.job_progress(job) == (0, 15)
    for pass_number in (1, 2, 3):
        for chunk in chunks:
            if pass_number == 3 and chunk.index == 4:
                break
            jobs.chunk_run(chunk.pk, pass_number)
        if pass_number == 1:
            # An import meanwhile: the job analyses the values its first pass read.
            ValueRecord.objects.update(revenue=F("revenue") * 3, margin=F("margin") * 3)
    job.refresh_from_db()
    assert job.pass_number == 3 and job.status == AnalysisJob.Status.RUNNING
    assert jobs.job_progress(job) == (14, 15)
    assert latest_run() == before
    assert AnalysisRun.objects.get(pk=run_subquery()) == before
    assert Assessment.objects.exclude(run=before).count() == 0
    page = admin_client.get("/customers/")
    assert page.status_code == 200
    assert "14 of 15 chunk passes done (93 %)" in page.content.decode()
    german = admin_client.get("/customers/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "14 von 15 Teildurchgängen erledigt (93 %)" in german
    jobs.chunk_run(chunks[4].pk, 3)
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.DONE
    assert latest_run() == job.run != before
    one, parts = _assessments(before), _assessments(job.run)
    assert all(_close(one[n].current_value, parts[n].current_value) for n in one)
    assert jobs.job_progress(job) == (15, 15)
    assert "chunk passes" not in admin_client.get("/customers/").content.decode()


def test_a_chunk_whose_worker_is_gone_is_queued_again(values, chunked, settings):
    job = jobs.analysis_job_start(as_of=AS_OF)
    chunk = job.chunk_set.get(index=0)
    AnalysisChunk.objects.filter(pk=chunk.pk).update(
        status=AnalysisChunk.Status.RUNNING,
        worker="elsewhere:1",
        attempts=1,
        heartbeat_at=pd.Timestamp("2020-01-01", tz="UTC"),
    )
    assert jobs.analysis_chunks_recover() == 1  # the immediate backend runs it at once
    chunk.refresh_from_db()
    assert chunk.status == AnalysisChunk.Status.DONE and chunk.attempts == 2


def test_a_second_start_joins_the_running_job(values, chunked):
    """Two clicks on "Analyse again" (or two users) make one job, not two."""
    from django.db import IntegrityError, transaction

    first = jobs.analysis_job_start(as_of=AS_OF)  # queued after a commit that never comes
    second = jobs.analysis_job_start(as_of=AS_OF)
    assert second.pk == first.pk
    assert AnalysisJob.objects.count() == 1
    # The database holds the rule against two starts at the same moment too.
    with pytest.raises(IntegrityError), transaction.atomic():
        AnalysisJob.objects.create(as_of=AS_OF.date(), first_period=AS_OF.date())
    # Once it is over, the next start is a new job.
    AnalysisJob.objects.filter(pk=first.pk).update(status=AnalysisJob.Status.FAILED)
    assert jobs.analysis_job_start(as_of=AS_OF).pk != first.pk
