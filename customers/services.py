"""Writes: loading value records, recording imports, storing analysis runs."""

import contextlib
import dataclasses
import io
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

import webhooks

from . import analysis, products, retention
from .backtest import backtest
from .chain_events import type_change_events_create
from .models import AnalysisRun, Assessment, Customer, ImportBatch, Purchase, ValueRecord
from .reading import read_history
from .selectors import history_frame, products_given, transactions_frame
from .thresholds import thresholds_in_force

log = logging.getLogger(__name__)


@dataclass
class LoadCounts:
    rows: int
    customers: int
    new_customers: int
    periods: int


def _customer_ids(history: pd.DataFrame) -> tuple[pd.Series, int]:
    """Map the file's customer numbers to primary keys, creating missing customers.

    Two imports may create the same new customers at the same moment: the insert skips
    numbers that exist by then (INSERT .. ON CONFLICT DO NOTHING, which on PostgreSQL waits
    for the other transaction and then skips), and the keys are read again afterwards.
    Rows are written in the order of their numbers, so that two such imports take their
    row locks in the same order and cannot deadlock. The reader has checked the lengths.
    """
    if "customer_name" not in history:
        history = history.assign(customer_name=pd.NA)
    names = (
        history[["customer_id", "customer_name"]]
        .dropna(subset=["customer_name"])
        .drop_duplicates("customer_id", keep="last")
        .set_index("customer_id")["customer_name"]
    )
    numbers = sorted(history["customer_id"].unique())
    existing = dict(Customer.objects.filter(number__in=numbers).values_list("number", "pk"))
    missing = [n for n in numbers if n not in existing]
    customers_create(numbers=missing, names=names)
    # Names from the file win over older ones, but an empty name never erases one.
    renamed = [
        Customer(pk=existing[n], name=str(names[n])) for n in sorted(names.index) if n in existing
    ]
    Customer.objects.bulk_update(renamed, ["name"], batch_size=5000)
    ids = dict(Customer.objects.filter(number__in=numbers).values_list("number", "pk"))
    _segments_update(history, ids)
    return history["customer_id"].map(ids), len(missing)


def _segments_update(history: pd.DataFrame, ids: dict[str, int]) -> None:
    """Each customer's segment becomes the one of its latest period in the file that
    names one; customers without a segment in the file keep theirs."""
    if "segment" not in history:
        return
    given = history.loc[history["segment"] != "", ["customer_id", "period", "segment"]]
    latest = given.sort_values("period", kind="stable").drop_duplicates("customer_id", keep="last")
    Customer.objects.bulk_update(
        [
            Customer(pk=ids[number], segment=segment)
            for number, segment in sorted(
                zip(latest["customer_id"], latest["segment"], strict=True)
            )
        ],
        ["segment"],
        batch_size=5000,
    )


def customers_create(*, numbers: list[str], names: pd.Series | dict) -> None:
    """Create the customers of these numbers that do not exist yet; any that another
    import created meanwhile are left as they are (idempotent under concurrency)."""
    Customer.objects.bulk_create(
        (Customer(number=n, name=str(names.get(n, ""))) for n in sorted(numbers)),
        batch_size=5000,
        ignore_conflicts=True,
    )


def value_records_load(
    *,
    history: pd.DataFrame,
    batch: ImportBatch | None = None,
    transactions: pd.DataFrame | None = None,
) -> LoadCounts:
    """Write the history into value records; periods already present are replaced.

    A record is replaced per customer, period and product. Where the file gives a
    customer's period only as a total (no product) the earlier values per product of that
    period go, and where it gives only values per product an earlier total goes, so that
    the customer's sum over its records never counts a month twice.

    PostgreSQL gets the rows by COPY into a temporary table and one INSERT .. ON CONFLICT;
    other databases by bulk upserts. The transactions of a per-transaction file are kept
    too (their timing drives the repeat-buying forecast): they replace the customers'
    earlier purchases in the file's date range (of the file's products and those without
    product, where the file has products), so a re-import counts nothing twice.
    """
    with _no_statement_timeout(), transaction.atomic():
        customer_pk, new = _customer_ids(history)
        if transactions is not None:
            pairs = pd.DataFrame(
                {"number": history["customer_id"].astype(str), "pk": customer_pk}
            ).drop_duplicates("number")
            numbers = dict(zip(pairs["number"], pairs["pk"], strict=True))
            _purchases_replace(transactions, numbers, batch)
        frame = pd.DataFrame(
            {
                "customer_id": customer_pk.to_numpy(dtype=np.int64),
                "period": history["period"].dt.strftime("%Y-%m-%d"),
                "product": _text_column(history, "product"),
                "segment": _text_column(history, "segment"),
                "revenue": history["revenue"].round(2),
                "margin": history["margin"].round(2),
            }
        )
        # Upserts lock rows in the order they come: the same order for every import.
        frame = frame.sort_values(["customer_id", "period", "product"], kind="stable")
        batch_id = batch.pk if batch else None
        # Only where products were or are given can a total and products meet.
        split = "product" in history and bool((frame["product"] != "").any())
        mixed = split or products_given()
        if connection.vendor == "postgresql":
            _copy_upsert(frame, batch_id, replace_other_kind=mixed)
        else:
            if mixed:
                _other_kind_delete(frame)
            _bulk_upsert(frame, batch_id)
    return LoadCounts(
        rows=len(frame),
        customers=int(frame["customer_id"].nunique()),
        new_customers=new,
        periods=int(history["period"].nunique()),
    )


def _text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A product or segment column as text, "" where the file has none."""
    if column not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[column].fillna("").astype(str)


def _other_kind_delete(frame: pd.DataFrame) -> None:
    """Without PostgreSQL: delete the records that the file's total or products of the
    same customer and period supersede (see value_records_load)."""
    kinds = _pair_kinds(frame)
    customers = [int(c) for c in kinds["customer_id"].unique()]
    stale = []
    for start in range(0, len(customers), 500):
        rows = pd.DataFrame.from_records(
            ValueRecord.objects.filter(customer_id__in=customers[start : start + 500])
            .values_list("pk", "customer_id", "period", "product")
            .iterator(chunk_size=20000),
            columns=["pk", "customer_id", "period", "product"],
        )
        if rows.empty:
            continue
        rows["period"] = pd.to_datetime(rows["period"]).dt.strftime("%Y-%m-%d")
        rows = rows.merge(kinds, on=["customer_id", "period"])
        superseded = (~rows["split"] & (rows["product"] != "")) | (
            ~rows["total"] & (rows["product"] == "")
        )
        stale += [int(pk) for pk in rows.loc[superseded, "pk"]]
    for start in range(0, len(stale), 500):
        ValueRecord.objects.filter(pk__in=stale[start : start + 500]).delete()


def _pair_kinds(frame: pd.DataFrame) -> pd.DataFrame:
    """Per customer and period of the file: does it give a total, values per product?"""
    blank = frame["product"] == ""
    return (
        frame.assign(total=blank, split=~blank)
        .groupby(["customer_id", "period"], sort=False)[["total", "split"]]
        .any()
        .reset_index()
    )


def _purchases_replace(
    transactions: pd.DataFrame, customer_pk: dict[str, int], batch: ImportBatch | None
) -> None:
    dates = pd.to_datetime(transactions["date"])
    earlier = Purchase.objects.filter(
        customer_id__in=[int(pk) for pk in set(customer_pk.values())],
        date__gte=dates.min().date(),
        date__lte=dates.max().date(),
    )
    if "product" in transactions:
        # A file of some products replaces those (and purchases without a product).
        earlier = earlier.filter(product__in={"", *transactions["product"].unique()})
    earlier.delete()
    frame = pd.DataFrame(
        {
            "customer_id": transactions["customer_id"].astype(str).map(customer_pk).astype("int64"),
            "date": dates.dt.strftime("%Y-%m-%d"),
            "product": _text_column(transactions, "product"),
            "segment": _text_column(transactions, "segment"),
            "amount": transactions["amount"].round(2),
            "margin": transactions["margin"].round(2),
            "batch_id": batch.pk if batch else None,
        }
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # COPY reads an empty field as NULL; "" is the stored "no product".
            _copy_into(cursor, Purchase._meta.db_table, frame, not_null=("product", "segment"))
        return
    Purchase.objects.bulk_create(_instances(Purchase, frame), batch_size=5000)


def _instances(model: type[models.Model], frame: pd.DataFrame, **fixed: object) -> Iterator:
    """One unsaved `model` per row of `frame`, whose columns are named as the model's
    fields (a missing value becomes None); `fixed` fields are the same on every row. The
    ORM path of the bulk loads, where COPY (PostgreSQL) is not available."""
    names = list(frame.columns)
    columns = [frame[name].astype(object).where(frame[name].notna(), None) for name in names]
    for row in zip(*columns, strict=True):
        yield model(**dict(zip(names, row, strict=True)), **fixed)


def _copy_into(cursor, table: str, frame: pd.DataFrame, not_null: tuple[str, ...] = ()) -> None:
    """COPY a frame into a table, columns by name (PostgreSQL only). An empty field is
    NULL, except in the ``not_null`` columns, where it is ""."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="")
    columns = ", ".join(frame.columns)
    options = "FORMAT csv" + (f", FORCE_NOT_NULL ({', '.join(not_null)})" if not_null else "")
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH ({options})") as copy:
        copy.write(buffer.getvalue())


def _copy_upsert(frame: pd.DataFrame, batch_id: int | None, *, replace_other_kind: bool) -> None:
    table = ValueRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE incoming_values "
            "(customer_id bigint, period date, product varchar, segment varchar, "
            "revenue numeric(16,2), margin numeric(16,2)) ON COMMIT DROP"
        )
        _copy_into(cursor, "incoming_values", frame, not_null=("product", "segment"))
        if replace_other_kind:
            # A total supersedes earlier values per product of its customer and period,
            # values per product an earlier total (see value_records_load).
            cursor.execute(
                f"DELETE FROM {table} AS r USING ("
                "SELECT customer_id, period, bool_or(product = '') AS total, "
                "bool_or(product <> '') AS split FROM incoming_values "
                "GROUP BY customer_id, period) AS p "
                "WHERE r.customer_id = p.customer_id AND r.period = p.period "
                "AND ((NOT p.split AND r.product <> '') OR (NOT p.total AND r.product = ''))"
            )
        cursor.execute(
            f"INSERT INTO {table} "
            "(customer_id, period, product, segment, revenue, margin, batch_id) "
            "SELECT customer_id, period, product, segment, revenue, margin, %s "
            "FROM incoming_values "
            "ON CONFLICT (customer_id, period, product) DO UPDATE SET "
            "segment = EXCLUDED.segment, revenue = EXCLUDED.revenue, "
            "margin = EXCLUDED.margin, batch_id = EXCLUDED.batch_id",
            [batch_id],
        )
        cursor.execute("DROP TABLE incoming_values")


def _bulk_upsert(frame: pd.DataFrame, batch_id: int | None) -> None:
    records = _instances(ValueRecord, frame, batch_id=batch_id)
    ValueRecord.objects.bulk_create(
        records,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["customer", "period", "product"],
        update_fields=["segment", "revenue", "margin", "batch"],
    )


@contextlib.contextmanager
def _no_statement_timeout() -> Iterator[None]:
    """Lift PostgreSQL's per-statement bound (DB_STATEMENT_TIMEOUT_MS, there for web
    requests) while a background job runs its long statements: the COPY of millions of
    rows, reading every history for the analysis. The job's own bound is its heartbeat."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (previous,) = cursor.fetchone()
        cursor.execute("SET statement_timeout = 0")
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [previous])


def worker_name() -> str:
    """This process as a job's worker: "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"


class _Heartbeat:
    """While a job runs, a thread of its own writes the batch's heartbeat every
    settings.IMPORT_HEARTBEAT_SECONDS, on its own database connection, so that a worker
    that is killed (or loses its database) leaves a batch whose heartbeat stops.

    A heartbeat that cannot be written (SQLite's lock held by the load's transaction)
    is skipped; the next one tries again.
    """

    def __init__(self, batch_id: int) -> None:
        self.batch_id = batch_id
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"heartbeat-{batch_id}", daemon=True)

    def __enter__(self) -> "_Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        from django.db import connection as thread_connection

        every = settings.IMPORT_HEARTBEAT_SECONDS
        try:
            while not self.stopped.wait(every):
                try:
                    self._beat()
                except DatabaseError:
                    log.warning("heartbeat of %s not written", self.thread.name)
        finally:
            thread_connection.close()

    def _beat(self) -> None:
        ImportBatch.objects.filter(pk=self.batch_id, status=ImportBatch.Status.RUNNING).update(
            heartbeat_at=timezone.now()
        )


def _save(batch: ImportBatch, *fields: str) -> None:
    batch.heartbeat_at = timezone.now()
    batch.save(update_fields=[*fields, "heartbeat_at"])


def import_batch_start(*, user: AbstractBaseUser, upload) -> ImportBatch:
    """Keep an uploaded value file (a checked `forms.UploadForm` file) and queue its
    import for the worker (`tasks.import_task`): the web page's and the API's upload.

    The batch waits as "pending" until the worker runs `import_batch_run`.
    """
    from .tasks import import_task  # the tasks module imports this one

    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    batch = ImportBatch.objects.create(uploaded_by=user, file_name=upload.name, upload=str(path))
    result = import_task.enqueue(batch.pk, str(path))
    # The immediate backend (tests) has run the job already; only the id is added.
    ImportBatch.objects.filter(pk=batch.pk).update(task_id=str(result.id)[:64])
    batch.refresh_from_db()
    return batch


def import_batch_run(*, batch: ImportBatch, path: Path) -> ImportBatch:
    """Read, check and load one uploaded file; a file with errors changes nothing.

    Progress: 5 reading, 40 loading, 80 loaded (the values are committed) and analysing,
    100 done. Messages are kept as codes and arguments, put into words when shown.
    """
    batch.status, batch.progress = ImportBatch.Status.RUNNING, 5
    batch.worker = worker_name()
    _save(batch, "status", "progress", "worker")
    try:
        with _Heartbeat(batch.pk):
            return _import(batch, path)
    except Exception as error:  # the job page must say why, whatever went wrong
        log.exception("import %s failed", batch.pk)
        batch.status = ImportBatch.Status.FAILED
        batch.outcome = {"code": "failed", "params": {"error": str(error)[:500]}}
        return batch
    finally:
        # Named fields only: the view adds the task's id after queueing, maybe meanwhile.
        _save(batch, "status", "progress", "outcome", "errors", "error_count", "kind", "rows")
        import_finished_emit(batch)


def import_finished_emit(batch: ImportBatch) -> None:
    """Tell the webhooks that an import is done or failed (README, "Webhooks"). The import
    is saved already: a failure here is logged, never the import's."""
    from webhooks.services import site_url

    try:
        _import_emit(batch, site_url)
    except Exception:
        log.exception("webhooks of import %s not told", batch.pk)


def _import_emit(batch: ImportBatch, site_url) -> None:
    webhooks.emit(
        "import.finished",
        {
            "import": {
                "id": batch.pk,
                "file_name": batch.file_name,
                "status": batch.status,
                "outcome": (batch.outcome or {}).get("code", ""),
                "rows": batch.rows,
                "customers": batch.customers,
                "error_count": batch.error_count,
                "url": site_url(reverse("customers:import-detail", args=[batch.pk])),
            },
            "by": (
                {"id": batch.uploaded_by_id, "username": batch.uploaded_by.get_username()}
                if batch.uploaded_by_id
                else None
            ),
        },
    )


def _import(batch: ImportBatch, path: Path) -> ImportBatch:
    result = read_history(path, filename=batch.file_name)
    batch.kind, batch.rows = result.kind or "", result.rows
    if result.errors:
        batch.status = ImportBatch.Status.FAILED
        batch.errors = [error.to_json() for error in result.errors]
        batch.error_count = result.error_count
        batch.outcome = {"code": "has_errors", "params": {}}
        return batch
    batch.progress = LOADING
    _save(batch, "progress", "kind", "rows")
    counts = value_records_load(
        history=result.history, batch=batch, transactions=result.transactions
    )
    batch.customers, batch.periods = counts.customers, counts.periods
    batch.first_period = result.history["period"].min().date()
    batch.last_period = result.history["period"].max().date()
    batch.progress = LOADED
    _save(batch, "progress", "customers", "periods", "first_period", "last_period")
    analysis_run_create(user=batch.uploaded_by)
    batch.status, batch.progress = ImportBatch.Status.DONE, 100
    batch.outcome = {
        "code": "done",
        "params": {"rows": counts.rows, "customers": counts.customers, "new": counts.new_customers},
    }
    return batch


LOADING, LOADED = 40, 80


def import_batches_recover(*, own_worker: str = "") -> list[ImportBatch]:
    """Finish the imports whose worker is gone, and say so on their pages.

    A running import is abandoned when its heartbeat is older than
    settings.IMPORT_STALE_SECONDS and its worker is not a live process on this host (a
    load on SQLite may hold the lock the heartbeat needs), or at once when it belongs to
    ``own_worker``: the worker that calls this after losing its database runs no job.
    A waiting import is abandoned when its task ended or hangs in a worker that stopped.

    Values not yet committed: the import failed, nothing was imported. Values committed
    (killed while analysing): the import is done and the analysis is queued again. Either
    way the upload is removed and the task marked failed, so that no worker waits on it.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    running = ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING)
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    if own_worker:
        stale |= Q(worker=own_worker)
    recovered = []
    for batch in running.filter(stale):
        if batch.worker != own_worker and _alive_here(batch.worker):
            continue
        if _recover(batch, ImportBatch.Status.RUNNING):
            recovered.append(batch)
    for batch in ImportBatch.objects.filter(status=ImportBatch.Status.PENDING).exclude(task_id=""):
        if _task_lost(batch.task_id, cutoff) and _recover(batch, ImportBatch.Status.PENDING):
            recovered.append(batch)
    return recovered


def import_batch_recover_if_abandoned(batch: ImportBatch) -> ImportBatch:
    """The status page's check, so that it never polls a dead job for ever."""
    if batch.is_final:
        return batch
    if any(b.pk == batch.pk for b in import_batches_recover()):
        batch.refresh_from_db()
    return batch


def _alive_here(worker: str) -> bool:
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # somebody else's process of that number
    return True


def _task_lost(task_id: str, cutoff) -> bool:
    from django_tasks_db.models import DBTaskResult

    try:
        task = DBTaskResult.objects.filter(pk=task_id).values("status", "started_at").first()
    except ValidationError:
        return False  # not an id of the database backend
    if task is None:
        return False  # another backend, or results pruned: nothing to judge by
    if task["status"] in ("FAILED", "SUCCESSFUL"):
        return True
    return task["status"] == "RUNNING" and task["started_at"] and task["started_at"] < cutoff


def _recover(batch: ImportBatch, status: str) -> bool:
    """Mark one abandoned batch, unless its worker wrote to it meanwhile."""
    loaded = status == ImportBatch.Status.RUNNING and batch.progress >= LOADED
    if loaded:
        outcome = {
            "code": "analysis_restarted",
            "params": {"rows": batch.rows, "customers": batch.customers},
        }
        new_status, progress = ImportBatch.Status.DONE, 100
    else:
        code = "interrupted" if status == ImportBatch.Status.RUNNING else "job_lost"
        outcome, new_status, progress = (
            {"code": code, "params": {}},
            ImportBatch.Status.FAILED,
            batch.progress,
        )
    changed = ImportBatch.objects.filter(
        pk=batch.pk, status=status, heartbeat_at=batch.heartbeat_at
    ).update(status=new_status, outcome=outcome, progress=progress)
    if not changed:
        return False
    log.warning(
        "import %s abandoned by worker %s: %s", batch.pk, batch.worker or "-", outcome["code"]
    )
    batch.status, batch.outcome, batch.progress = new_status, outcome, progress
    import_finished_emit(batch)
    if batch.upload:
        Path(batch.upload).unlink(missing_ok=True)
    if batch.task_id:
        _task_fail(batch.task_id)
    if loaded:
        from .tasks import analyse_task

        analyse_task.enqueue(batch.uploaded_by_id)
    return True


def _task_fail(task_id: str) -> None:
    from django_tasks_db.models import DBTaskResult

    with contextlib.suppress(ValidationError):
        DBTaskResult.objects.filter(pk=task_id, status__in=["READY", "RUNNING"]).update(
            status="FAILED", finished_at=timezone.now()
        )


def analysis_run_create(
    *,
    user: AbstractBaseUser | None = None,
    as_of: pd.Timestamp | None = None,
    horizon: int | None = None,
) -> AnalysisRun | None:
    """Analyse every customer's history and store one assessment per customer (over all
    its products) and, where the values name products, one per customer and product."""
    with _no_statement_timeout():
        return _analysis_run_create(user=user, as_of=as_of, horizon=horizon)


def _analysis_run_create(
    *, user: AbstractBaseUser | None, as_of: pd.Timestamp | None, horizon: int | None
) -> AnalysisRun | None:
    from . import jobs  # it uses this module's writers

    by_product = products_given()
    if not by_product and jobs.chunked_wanted():
        # A large portfolio: chunk tasks that several workers share (customers/jobs.py);
        # the run exists once the last chunk is done (at once with the immediate backend).
        job = jobs.analysis_job_start(user=user, as_of=as_of, horizon=horizon)
        return AnalysisRun.objects.filter(pk=job.run_id).first() if job else None
    history = history_frame(products=by_product)
    if history.empty:
        return None
    horizon = horizon or settings.CUSTOMER_ANALYSIS["horizon"]
    # The defaults overlaid with the administrators' changes (customers/thresholds.py).
    thresholds, threshold_settings = thresholds_in_force()
    as_of = as_of if as_of is not None else history["period"].max()
    options = {
        "as_of": as_of,
        "horizon": horizon,
        "thresholds": thresholds,
        "transactions": transactions_frame(products=by_product),
    }
    # The backtest first: it is a second analysis of the same size, so it runs while no
    # other result is held, and leaves only its small dict of figures.
    figures = _backtest_if_small(history, options)
    result = analysis.analyse(history, **options)
    per_product = products.analyse_products(history, **options) if by_product else None
    del history, options  # the frames are not needed while the assessments are written
    ids = dict(Customer.objects.values_list("number", "pk"))
    with transaction.atomic():
        run = AnalysisRun.objects.create(
            started_by=user,
            as_of=as_of.date(),
            horizon=horizon,
            customers=len(result),
            thresholds=dataclasses.asdict(thresholds),
            threshold_settings=threshold_settings,
            backtest=figures,
        )
        _assessments_create(run, result, ids)
        if per_product is not None:
            for product, part in per_product.groupby(products.PRODUCT, sort=True):
                _assessments_create(run, part.drop(columns=[products.PRODUCT]), ids, product)
        # The chains hear of their customers' types turning for the worse (chain events).
        type_change_events_create(run=run)
    # The older runs shrink to what the history reads of them (customers/retention.py).
    retention.analysis_runs_compact()
    return run


def _backtest_if_small(history: pd.DataFrame, options: dict) -> dict:
    """The run's backtest figures, or {"status": "on_request"} for a portfolio above
    CUSTOMER_ANALYSIS["backtest_max_customers"] (the portfolio page offers to run it)."""
    limit = settings.CUSTOMER_ANALYSIS.get("backtest_max_customers", 50_000)
    if history[analysis.CUSTOMER_ID].nunique() > limit:
        return {"status": "on_request"}
    return _backtest(history, options)


def _backtest(history: pd.DataFrame, options: dict) -> dict:
    try:
        return {"status": "done", **backtest(history, **options)}
    except Exception:  # the run stands without its backtest; the log says why
        log.exception("backtest failed")
        return {"status": "failed"}


def analysis_run_backtest_request(run: AnalysisRun) -> bool:
    """Mark a run's backtest as queued (False when it is done or queued already)."""
    with transaction.atomic():
        locked = AnalysisRun.objects.select_for_update().get(pk=run.pk)
        if (locked.backtest or {}).get("status") in ("done", "queued"):
            return False
        locked.backtest = {"status": "queued"}
        locked.save(update_fields=["backtest"])
    run.backtest = locked.backtest
    return True


def analysis_run_backtest(run: AnalysisRun) -> AnalysisRun:
    """Backtest a stored run's forecast on the values as they are now (the background
    job behind the portfolio page's button)."""
    by_product = products_given()
    with _no_statement_timeout():
        history = history_frame(products=by_product)
        options = {
            "as_of": pd.Timestamp(run.as_of),
            "horizon": run.horizon,
            "thresholds": analysis.Thresholds.from_mapping(run.thresholds),
            "transactions": transactions_frame(products=by_product),
        }
    figures = _backtest(history, options) if not history.empty else {"status": "failed"}
    del history, options
    run.backtest = figures
    run.save(update_fields=["backtest"])
    return run


def _assessments_create(
    run: AnalysisRun, result: pd.DataFrame, ids: dict[str, int], product: str = ""
) -> None:
    """Store the analysis result (one row per customer) as the run's assessments of
    ``product`` ("" = over all products): by COPY on PostgreSQL (bench/assessments_write.py
    times a million), in batched INSERTs elsewhere."""
    _assessment_rows_write(run, product, _assessment_rows(result, ids))


def _assessment_rows(result: pd.DataFrame, ids: dict[str, int]) -> Iterator[tuple]:
    """The result's assessment rows: customer pk, type, current and future value, the
    two flags, the figures as JSON text."""
    output = analysis.to_output_frame(result)
    heads = output[list(OUTPUT_FIELDS)]
    customers = heads["customer_id"].astype(str)
    columns = zip(
        customers.map(ids).to_numpy(),
        heads["value_type"].astype(str).to_numpy(),
        heads["current_value"].astype(float).to_numpy().tolist(),
        heads["future_value"].astype(float).to_numpy().tolist(),
        _flag(output, "hidden_pearl"),
        _flag(output, "cost_review"),
        _figures_json(output, result, customers),
        strict=True,
    )
    return columns


def _assessment_rows_write(run: AnalysisRun, product: str, columns) -> None:
    """Store assessment rows (`_assessment_rows`) in the caller's transaction."""
    if connection.vendor == "postgresql":
        _assessments_copy(run, product, columns)
        return
    Assessment.objects.bulk_create(
        (
            Assessment(
                run=run,
                customer_id=int(customer),
                product=product,
                value_type=value_type,
                current_value=current,
                future_value=future,
                hidden_pearl=pearl,
                cost_review=cost,
                figures=json.loads(figures),
            )
            for customer, value_type, current, future, pearl, cost, figures in columns
        ),
        batch_size=5000,
    )


def _assessments_copy(run: AnalysisRun, product: str, rows) -> None:
    """COPY the rows into the assessment table, in the caller's transaction."""
    table = connection.ops.quote_name(Assessment._meta.db_table)
    fields = ["run", "customer", "product", "value_type", "current_value", "future_value"]
    fields += ["hidden_pearl", "cost_review", "figures"]
    columns = ", ".join(
        connection.ops.quote_name(Assessment._meta.get_field(f).column) for f in fields
    )
    sql = f"COPY {table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for customer, value_type, current, future, pearl, cost, figures in rows:
            copy.write_row(
                (run.pk, int(customer), product, value_type, current, future, pearl, cost, figures)
            )


OUTPUT_FIELDS = ["customer_id", "value_type", "current_value", "future_value"]


def _forecast_paths(result: pd.DataFrame) -> dict[str, list[float]]:
    if "forecast_path" not in result:
        return {}
    paths = result["forecast_path"]
    keys = [str(key) for key in result.get("customer_id", paths.index)]
    lengths = {len(path) for path in paths}
    if len(lengths) == 1:  # as the analysis makes them: one horizon for all, rounded at once
        rounded = np.round(np.array(paths.tolist(), dtype=float).reshape(len(paths), -1), 2)
        return dict(zip(keys, rounded.tolist(), strict=True))
    return {
        key: np.round(np.asarray(path, dtype=float), 2).tolist()
        for key, path in zip(keys, paths, strict=True)
    }


def _flag(output: pd.DataFrame, name: str) -> list[bool]:
    if name not in output:
        return [False] * len(output)
    return output[name].fillna(False).astype(bool).to_numpy().tolist()


def _figures_json(output: pd.DataFrame, result: pd.DataFrame, customers: pd.Series) -> list[str]:
    """Each customer's explaining figures as a JSON object, with its forecast per future
    period (rounded to cents): written by pandas for all rows at once, not a dict per row.
    Not-a-number and infinite figures are null."""
    figures = output[[c for c in output.columns if c not in OUTPUT_FIELDS]].copy()
    numeric = figures.select_dtypes("number").columns
    figures[numeric] = figures[numeric].replace([np.inf, -np.inf], np.nan)
    paths = _forecast_paths(result)
    figures["forecast_path"] = [paths.get(c, []) for c in customers]
    text = figures.to_json(orient="records", lines=True, double_precision=15)
    return text.rstrip("\n").split("\n") if len(figures) else []
