"""A large analysis of the stored values as chunk tasks on the task queue, so that several
workers (``manage.py worker``, on one or several machines sharing the database) work on
it together; the result equals the one-process analysis (customers/chunked.py explains
the passes and why they are exact).

- `analysis_job_start` (from `services.analysis_run_create`, above
  settings.ANALYSIS_CHUNK_CUSTOMERS_DB customers with values, no products, no purchases)
  cuts the customers, their numbers sorted by code point as the analysis sorts them,
  into contiguous chunks of settings.ANALYSIS_CHUNK_SIZE_DB and queues one
  `tasks.analysis_chunk_task` per chunk for pass 1.
- A chunk task reads its customers' value records (a range of numbers, compared by code
  point: collation "C"), analyses them with the portfolio-wide figures so far and stores
  its parts in its row: passes 1 and 2 their parts of those figures (NumPy arrays),
  pass 3 its assessment rows (a Feather table).
- The last chunk of a pass to finish (the job's row locked) aggregates the parts and,
  after its commit, queues the next pass's tasks. After pass 3 it creates the
  AnalysisRun with all assessment rows and the chain events in one transaction: until
  then no run, no assessment of the job is visible. Then the old runs are compacted.
  The backtest is left "on request" (a second analysis in one process; the portfolio
  page's button runs it).
- A chunk whose task raises is queued again, up to settings.ANALYSIS_CHUNK_ATTEMPTS
  attempts in all; then the job fails. A chunk whose worker died (its heartbeat older
  than settings.ANALYSIS_CHUNK_STALE_SECONDS) or whose task is lost is queued again by
  `analysis_chunks_recover` (the worker's start, the customers page).
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Max, Min, OuterRef
from django.db.models.functions import Collate
from django.utils import timezone

from . import analysis, bgnbd, retention, services
from .chain_events import type_change_events_create
from .models import AnalysisChunk, AnalysisJob, AnalysisRun, Customer, Purchase, ValueRecord
from .selectors import HISTORY_COLUMNS, _frame
from .thresholds import thresholds_in_force

log = logging.getLogger(__name__)

PASSES = 3
_ROW_COLUMNS = ["customer", "value_type", "current", "future", "pearl", "cost", "figures"]


def chunked_wanted() -> bool:
    """Whether the analysis goes the chunked way: more customers with values than
    settings.ANALYSIS_CHUNK_CUSTOMERS_DB and no purchases (the repeat-buying fit over
    transactions needs all of them in one process). The caller checks for products."""
    limit = settings.ANALYSIS_CHUNK_CUSTOMERS_DB
    if not limit:
        return False
    records = ValueRecord.objects.filter(customer=OuterRef("pk"))
    with_values = Customer.objects.filter(Exists(records))
    return with_values[limit : limit + 1].exists() and not Purchase.objects.exists()


def analysis_job_start(
    *,
    user: AbstractBaseUser | None = None,
    as_of: pd.Timestamp | None = None,
    horizon: int | None = None,
    chunk_size: int | None = None,
) -> AnalysisJob | None:
    """Create the job and its chunks and queue pass 1 (after the commit); None when there
    are no values. With the immediate task backend the job is done on return."""
    chunk_size = chunk_size or settings.ANALYSIS_CHUNK_SIZE_DB
    if as_of is None:
        as_of = ValueRecord.objects.aggregate(m=Max("period"))["m"]
        if as_of is None:
            return None
    as_of = pd.Timestamp(as_of)
    first = ValueRecord.objects.filter(period__lte=as_of.date()).aggregate(m=Min("period"))["m"]
    with_values = Exists(ValueRecord.objects.filter(customer=OuterRef("pk")))
    numbers = sorted(Customer.objects.filter(with_values).values_list("number", flat=True))
    if not numbers:
        return None
    thresholds, threshold_settings = thresholds_in_force()
    # One analysis at a time (a database constraint): a second start joins the running job.
    running = running_job()
    if running is not None:
        return running
    try:
        return _job_create(
            user=user,
            as_of=as_of,
            first=first,
            horizon=horizon,
            numbers=numbers,
            chunk_size=chunk_size,
            thresholds=thresholds,
            threshold_settings=threshold_settings,
        )
    except IntegrityError:  # started by somebody else in the meantime
        return running_job()


def _job_create(
    *, user, as_of, first, horizon, numbers, chunk_size, thresholds, threshold_settings
) -> AnalysisJob:
    with transaction.atomic():
        job = AnalysisJob.objects.create(
            started_by=user,
            as_of=as_of.date(),
            first_period=first or as_of.date(),
            horizon=horizon or settings.CUSTOMER_ANALYSIS["horizon"],
            thresholds=dataclasses.asdict(thresholds),
            threshold_settings=threshold_settings,
        )
        chunks = [
            AnalysisChunk(
                job=job,
                index=index,
                first_customer=numbers[start],
                last_customer=numbers[min(start + chunk_size, len(numbers)) - 1],
                heartbeat_at=timezone.now(),
            )
            for index, start in enumerate(range(0, len(numbers), chunk_size))
        ]
        AnalysisChunk.objects.bulk_create(chunks)
        job.chunks = len(chunks)
        job.save(update_fields=["chunks"])
        transaction.on_commit(lambda: _enqueue(job.pk, 1))
    job.refresh_from_db()
    return job


def job_progress(job: AnalysisJob) -> tuple[int, int]:
    """Chunk passes done and in all (each chunk goes through three passes)."""
    total = job.chunks * PASSES
    if job.status == AnalysisJob.Status.DONE:
        return total, total
    done = job.chunk_set.filter(pass_number=job.pass_number, status=AnalysisChunk.Status.DONE)
    return (job.pass_number - 1) * job.chunks + done.count(), total


def running_job() -> AnalysisJob | None:
    return AnalysisJob.objects.filter(status=AnalysisJob.Status.RUNNING).first()


# --- the chunk task --------------------------------------------------------------------


class _ChunkHeartbeat(services._Heartbeat):
    def _beat(self) -> None:
        AnalysisChunk.objects.filter(pk=self.batch_id, status=AnalysisChunk.Status.RUNNING).update(
            heartbeat_at=timezone.now()
        )


def chunk_run(chunk_id: int, pass_number: int) -> None:
    """Run one pass of one chunk (the body of `tasks.analysis_chunk_task`)."""
    me = services.worker_name()
    claimed = AnalysisChunk.objects.filter(
        pk=chunk_id,
        pass_number=pass_number,
        status=AnalysisChunk.Status.PENDING,
        job__status=AnalysisJob.Status.RUNNING,
        job__pass_number=pass_number,
    ).update(
        status=AnalysisChunk.Status.RUNNING,
        worker=me,
        attempts=F("attempts") + 1,
        heartbeat_at=timezone.now(),
    )
    if not claimed:
        return  # done, taken over, or its job ended meanwhile
    chunk = AnalysisChunk.objects.select_related("job").get(pk=chunk_id)
    try:
        with services._no_statement_timeout(), _ChunkHeartbeat(chunk.pk):
            history, snapshot = _chunk_history(chunk)
            parts = _pass(chunk, pass_number, history)
    except Exception as error:
        log.exception("chunk %s of analysis job %s failed", chunk.index, chunk.job_id)
        _chunk_failed(chunk, pass_number, me, error)
        return
    _chunk_done(chunk, pass_number, me, parts, snapshot)


def _chunk_done(
    chunk: AnalysisChunk, pass_number: int, me: str, parts: bytes, snapshot: bytes | None
) -> None:
    with transaction.atomic():
        job = AnalysisJob.objects.select_for_update().get(pk=chunk.job_id)
        if job.status != AnalysisJob.Status.RUNNING or job.pass_number != pass_number:
            return
        stored = AnalysisChunk.objects.filter(
            pk=chunk.pk, pass_number=pass_number, status=AnalysisChunk.Status.RUNNING, worker=me
        ).update(
            status=AnalysisChunk.Status.DONE,
            parts=parts,
            heartbeat_at=timezone.now(),
            **({"history": snapshot} if snapshot is not None else {}),
        )
        if not stored:
            return  # recovered as lost meanwhile: the other attempt counts
        open_chunks = job.chunk_set.exclude(status=AnalysisChunk.Status.DONE)
        if open_chunks.exists():
            return
        if pass_number < PASSES:
            _aggregate(job, pass_number)
            return
        run = _finish(job)
    if run is not None:
        retention.analysis_runs_compact()


def _chunk_failed(chunk: AnalysisChunk, pass_number: int, me: str, error: Exception) -> None:
    with transaction.atomic():
        job = AnalysisJob.objects.select_for_update().get(pk=chunk.job_id)
        current = AnalysisChunk.objects.filter(
            pk=chunk.pk, pass_number=pass_number, status=AnalysisChunk.Status.RUNNING, worker=me
        )
        attempts = current.values_list("attempts", flat=True).first()
        if attempts is None or job.status != AnalysisJob.Status.RUNNING:
            return
        if attempts < settings.ANALYSIS_CHUNK_ATTEMPTS:
            current.update(status=AnalysisChunk.Status.PENDING, heartbeat_at=timezone.now())
            job_id = job.pk
            transaction.on_commit(lambda: _enqueue(job_id, pass_number, [chunk.pk]))
            return
        current.update(status=AnalysisChunk.Status.FAILED)
        job.status = AnalysisJob.Status.FAILED
        job.error = f"chunk {chunk.index}, pass {pass_number}: {error!r}"[:2000]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])


def _enqueue(job_id: int, pass_number: int, chunk_ids: list[int] | None = None) -> None:
    from .tasks import analysis_chunk_task  # the tasks module imports this one

    if chunk_ids is None:
        chunk_ids = list(
            AnalysisChunk.objects.filter(job_id=job_id, pass_number=pass_number)
            .order_by("index")
            .values_list("pk", flat=True)
        )
    for pk in chunk_ids:
        result = analysis_chunk_task.enqueue(pk, pass_number)
        AnalysisChunk.objects.filter(
            pk=pk, pass_number=pass_number, status=AnalysisChunk.Status.PENDING
        ).update(task_id=str(result.id), heartbeat_at=timezone.now())


# --- one pass of one chunk -------------------------------------------------------------


def _history(chunk: AnalysisChunk) -> pd.DataFrame:
    """The chunk's value records as `selectors.history_frame` reads them: its customers
    are those with numbers from first to last, compared by code point as Python sorts."""
    collation = "C" if connection.vendor == "postgresql" else "BINARY"
    records = ValueRecord.objects.alias(number=Collate("customer__number", collation)).filter(
        number__gte=chunk.first_customer, number__lte=chunk.last_customer
    )
    rows = records.values_list("customer__number", "period", "revenue", "margin")
    return _frame(rows, HISTORY_COLUMNS)


def _chunk_history(chunk: AnalysisChunk) -> tuple[pd.DataFrame, bytes | None]:
    """The chunk's history: read from the value records once (the first pass that runs
    it) and kept in the chunk's row as a Feather table, so that every pass analyses the
    same values (an import may commit meanwhile) and passes 2 and 3 skip the read. The
    history and the table to keep (None: it was kept already)."""
    stored = AnalysisChunk.objects.filter(pk=chunk.pk).values_list("history", flat=True).first()
    if stored:
        return feather.read_table(io.BytesIO(bytes(stored))).to_pandas(), None
    history = _history(chunk)
    sink = io.BytesIO()
    feather.write_feather(pa.Table.from_pandas(history, preserve_index=False), sink)
    return history, sink.getvalue()


def _options(job: AnalysisJob) -> dict:
    return {
        "as_of": pd.Timestamp(job.as_of),
        "horizon": job.horizon,
        "thresholds": analysis.Thresholds.from_mapping(job.thresholds),
    }


def _pass(chunk: AnalysisChunk, pass_number: int, history: pd.DataFrame) -> bytes:
    job = chunk.job
    portfolio = _portfolio_load(job)
    if pass_number < PASSES:
        return _arrays_dump(
            analysis.portfolio_parts(
                history, **_options(job), portfolio=portfolio, stage=pass_number
            )
        )
    result = analysis.analyse(history, **_options(job), portfolio=portfolio)
    numbers = result["customer_id"].astype(str) if "customer_id" in result else result.index
    ids = dict(
        Customer.objects.filter(number__in=list(map(str, numbers))).values_list("number", "pk")
    )
    rows = list(services._assessment_rows(result, ids))
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in _ROW_COLUMNS]
    table = pa.table(
        {
            "customer": pa.array(columns[0], pa.int64()),
            "value_type": pa.array(columns[1], pa.string()),
            "current": pa.array(columns[2], pa.float64()),
            "future": pa.array(columns[3], pa.float64()),
            "pearl": pa.array(columns[4], pa.bool_()),
            "cost": pa.array(columns[5], pa.bool_()),
            "figures": pa.array(columns[6], pa.string()),
        }
    )
    sink = io.BytesIO()
    feather.write_feather(table, sink)
    return sink.getvalue()


def _rows(parts: bytes) -> Iterator[tuple]:
    table = feather.read_table(io.BytesIO(bytes(parts)))
    columns = [table.column(name).to_pylist() for name in _ROW_COLUMNS]
    return zip(*columns, strict=True)


# --- the portfolio-wide figures --------------------------------------------------------


def _arrays_dump(arrays: dict) -> bytes:
    sink = io.BytesIO()
    np.savez(sink, **{name: np.asarray(values) for name, values in arrays.items()})
    return sink.getvalue()


def _arrays_load(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as stored:
        return {name: stored[name] for name in stored.files}


def _portfolio_load(job: AnalysisJob) -> analysis.Portfolio:
    first = pd.Timestamp(job.first_period)
    if not job.portfolio:
        return analysis.Portfolio(first_period=first)
    a = _arrays_load(job.portfolio)
    models = None
    if len(a["bgbb"]):
        models = (bgnbd.BGBB(*a["bgbb"].tolist()), bgnbd.GammaGamma(*a["gamma_gamma"].tolist()))
    return analysis.Portfolio(
        first_period=first,
        margin_reference=float(a["margin_reference"]),
        revenue_reference=float(a["revenue_reference"]),
        margin_ratios=a["margin_ratios"],
        pearl_ceiling=float(a["pearl_ceiling"]),
        repeat_buying=models,
    )


def _portfolio_dump(portfolio: analysis.Portfolio) -> bytes:
    models = portfolio.repeat_buying
    fields = dataclasses.astuple
    return _arrays_dump(
        {
            "margin_reference": np.float64(portfolio.margin_reference),
            "revenue_reference": np.float64(portfolio.revenue_reference),
            "margin_ratios": np.asarray(portfolio.margin_ratios, dtype=float),
            "pearl_ceiling": np.float64(portfolio.pearl_ceiling),
            "bgbb": np.array(fields(models[0]) if models else [], dtype=float),
            "gamma_gamma": np.array(fields(models[1]) if models else [], dtype=float),
        }
    )


def _aggregate(job: AnalysisJob, pass_number: int) -> None:
    """The figures of the pass's parts (as chunked.analyse_chunks makes them); the next
    pass's chunks are queued after the commit."""
    chunks = list(job.chunk_set.order_by("index").values_list("parts", flat=True))
    parts = [_arrays_load(data) for data in chunks]
    th = analysis.Thresholds.from_mapping(job.thresholds)
    portfolio = analysis.portfolio_from_parts(_portfolio_load(job), parts, th, stage=pass_number)
    del parts, chunks
    job.portfolio = _portfolio_dump(portfolio)
    job.pass_number = pass_number + 1
    job.save(update_fields=["portfolio", "pass_number"])
    job.chunk_set.update(
        pass_number=pass_number + 1,
        status=AnalysisChunk.Status.PENDING,
        attempts=0,
        worker="",
        task_id="",
        parts=None,
        heartbeat_at=timezone.now(),
    )
    job_id, next_pass = job.pk, pass_number + 1
    transaction.on_commit(lambda: _enqueue(job_id, next_pass))


def _finish(job: AnalysisJob) -> AnalysisRun:
    """The run with every chunk's assessment rows, and the chain events, in the caller's
    transaction: visible all at once."""
    run = AnalysisRun.objects.create(
        started_by=job.started_by,
        as_of=job.as_of,
        horizon=job.horizon,
        thresholds=job.thresholds,
        threshold_settings=job.threshold_settings,
        backtest={"status": "on_request"},
    )
    customers = 0
    for chunk in job.chunk_set.order_by("index").iterator(chunk_size=1):
        rows = list(_rows(chunk.parts))
        customers += len(rows)
        services._assessment_rows_write(run, "", iter(rows))
    run.customers = customers
    run.save(update_fields=["customers"])
    type_change_events_create(run=run)
    job.chunk_set.update(parts=None, history=None)
    job.status = AnalysisJob.Status.DONE
    job.run = run
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "run", "finished_at"])
    return run


# --- recovery --------------------------------------------------------------------------


def analysis_chunks_recover(*, own_worker: str = "") -> int:
    """Queue again the chunks of running jobs whose worker is gone (heartbeat older than
    settings.ANALYSIS_CHUNK_STALE_SECONDS and not a live process here, or ``own_worker``)
    or whose task is lost; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.ANALYSIS_CHUNK_STALE_SECONDS)
    count = 0
    chunks = AnalysisChunk.objects.filter(
        job__status=AnalysisJob.Status.RUNNING, pass_number=F("job__pass_number")
    )
    for chunk in chunks.filter(status=AnalysisChunk.Status.RUNNING):
        stale = chunk.heartbeat_at is None or chunk.heartbeat_at < cutoff
        if not (chunk.worker == own_worker or (stale and not services._alive_here(chunk.worker))):
            continue
        reset = AnalysisChunk.objects.filter(
            pk=chunk.pk, status=chunk.status, heartbeat_at=chunk.heartbeat_at
        ).update(status=AnalysisChunk.Status.PENDING, worker="")
        if reset:
            log.warning("chunk %s of analysis job %s: worker gone", chunk.index, chunk.job_id)
            if chunk.attempts >= settings.ANALYSIS_CHUNK_ATTEMPTS:
                AnalysisJob.objects.filter(pk=chunk.job_id).update(
                    status=AnalysisJob.Status.FAILED,
                    error=f"chunk {chunk.index}: its workers died",
                    finished_at=timezone.now(),
                )
                continue
            _enqueue(chunk.job_id, chunk.pass_number, [chunk.pk])
            count += 1
    for chunk in chunks.filter(status=AnalysisChunk.Status.PENDING, heartbeat_at__lt=cutoff):
        lost = not chunk.task_id or services._task_lost(chunk.task_id, cutoff)
        if lost:
            _enqueue(chunk.job_id, chunk.pass_number, [chunk.pk])
            count += 1
    return count
