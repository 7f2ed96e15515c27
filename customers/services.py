"""Writes: loading value records, recording imports, storing analysis runs."""

import dataclasses
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils.translation import gettext as _

from . import analysis
from .models import AnalysisRun, Assessment, Customer, ImportBatch, Purchase, ValueRecord
from .reading import read_history
from .selectors import history_frame, transactions_frame

log = logging.getLogger(__name__)


@dataclass
class LoadCounts:
    rows: int
    customers: int
    new_customers: int
    periods: int


def _customer_ids(history: pd.DataFrame) -> tuple[pd.Series, int]:
    """Map the file's customer numbers to primary keys, creating missing customers."""
    if "customer_name" not in history:
        history = history.assign(customer_name=pd.NA)
    names = (
        history[["customer_id", "customer_name"]]
        .dropna(subset=["customer_name"])
        .drop_duplicates("customer_id", keep="last")
        .set_index("customer_id")["customer_name"]
    )
    numbers = pd.Index(history["customer_id"].unique())
    existing = dict(Customer.objects.filter(number__in=list(numbers)).values_list("number", "pk"))
    missing = [n for n in numbers if n not in existing]
    Customer.objects.bulk_create(
        (Customer(number=n, name=str(names.get(n, ""))[:200]) for n in missing), batch_size=5000
    )
    # Names from the file win over older ones, but an empty name never erases one.
    renamed = [
        Customer(pk=existing[n], name=str(names[n])[:200]) for n in names.index if n in existing
    ]
    Customer.objects.bulk_update(renamed, ["name"], batch_size=5000)
    ids = dict(Customer.objects.filter(number__in=list(numbers)).values_list("number", "pk"))
    return history["customer_id"].map(ids), len(missing)


def value_records_load(
    *,
    history: pd.DataFrame,
    batch: ImportBatch | None = None,
    transactions: pd.DataFrame | None = None,
) -> LoadCounts:
    """Write the history into value records; periods already present are replaced.

    PostgreSQL gets the rows by COPY into a temporary table and one INSERT .. ON CONFLICT;
    other databases by bulk upserts. The transactions of a per-transaction file are kept
    too (their timing drives the repeat-buying forecast): they replace the customers'
    earlier purchases in the file's date range, so a re-import counts nothing twice.
    """
    with transaction.atomic():
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
                "revenue": history["revenue"].round(2),
                "margin": history["margin"].round(2),
            }
        )
        batch_id = batch.pk if batch else None
        if connection.vendor == "postgresql":
            _copy_upsert(frame, batch_id)
        else:
            _bulk_upsert(frame, batch_id)
    return LoadCounts(
        rows=len(frame),
        customers=int(frame["customer_id"].nunique()),
        new_customers=new,
        periods=int(history["period"].nunique()),
    )


def _purchases_replace(
    transactions: pd.DataFrame, customer_pk: dict[str, int], batch: ImportBatch | None
) -> None:
    dates = pd.to_datetime(transactions["date"])
    Purchase.objects.filter(
        customer_id__in=[int(pk) for pk in set(customer_pk.values())],
        date__gte=dates.min().date(),
        date__lte=dates.max().date(),
    ).delete()
    frame = pd.DataFrame(
        {
            "customer_id": transactions["customer_id"].astype(str).map(customer_pk).astype("int64"),
            "date": dates.dt.strftime("%Y-%m-%d"),
            "amount": transactions["amount"].round(2),
            "margin": transactions["margin"].round(2),
            "batch_id": batch.pk if batch else None,
        }
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            _copy_into(cursor, Purchase._meta.db_table, frame)
        return
    margin = frame["margin"].astype(object).where(frame["margin"].notna(), None)
    Purchase.objects.bulk_create(
        (
            Purchase(customer_id=int(c), date=d, amount=a, margin=m, batch=batch)
            for c, d, a, m in zip(
                frame["customer_id"], frame["date"], frame["amount"], margin, strict=True
            )
        ),
        batch_size=5000,
    )


def _copy_into(cursor, table: str, frame: pd.DataFrame) -> None:
    """COPY a frame into a table, columns by name (PostgreSQL only)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="")
    columns = ", ".join(frame.columns)
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())


def _copy_upsert(frame: pd.DataFrame, batch_id: int | None) -> None:
    table = ValueRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE incoming_values "
            "(customer_id bigint, period date, revenue numeric(16,2), margin numeric(16,2)) "
            "ON COMMIT DROP"
        )
        _copy_into(cursor, "incoming_values", frame)
        cursor.execute(
            f"INSERT INTO {table} (customer_id, period, revenue, margin, batch_id) "
            "SELECT customer_id, period, revenue, margin, %s FROM incoming_values "
            "ON CONFLICT (customer_id, period) DO UPDATE SET revenue = EXCLUDED.revenue, "
            "margin = EXCLUDED.margin, batch_id = EXCLUDED.batch_id",
            [batch_id],
        )
        cursor.execute("DROP TABLE incoming_values")


def _bulk_upsert(frame: pd.DataFrame, batch_id: int | None) -> None:
    margin = frame["margin"].astype(object).where(frame["margin"].notna(), None)
    records = (
        ValueRecord(customer_id=int(c), period=p, revenue=r, margin=m, batch_id=batch_id)
        for c, p, r, m in zip(
            frame["customer_id"], frame["period"], frame["revenue"], margin, strict=True
        )
    )
    ValueRecord.objects.bulk_create(
        records,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["customer", "period"],
        update_fields=["revenue", "margin", "batch"],
    )


def import_batch_run(*, batch: ImportBatch, path: Path) -> ImportBatch:
    """Read, check and load one uploaded file; a file with errors changes nothing."""
    batch.status, batch.progress = ImportBatch.Status.RUNNING, 5
    batch.save(update_fields=["status", "progress"])
    try:
        result = read_history(path, filename=batch.file_name)
        batch.kind, batch.rows = result.kind or "", result.rows
        if result.errors:
            batch.status = ImportBatch.Status.FAILED
            batch.errors = [
                {"row": e.row, "column": e.column, "message": str(e.message)} for e in result.errors
            ]
            batch.message = _("The file has errors; nothing was imported.")
            return batch
        batch.progress = 40
        batch.save(update_fields=["progress", "kind", "rows"])
        counts = value_records_load(
            history=result.history, batch=batch, transactions=result.transactions
        )
        batch.customers, batch.periods = counts.customers, counts.periods
        batch.first_period = result.history["period"].min().date()
        batch.last_period = result.history["period"].max().date()
        batch.progress = 80
        batch.save(
            update_fields=["progress", "customers", "periods", "first_period", "last_period"]
        )
        analysis_run_create(user=batch.uploaded_by)
        batch.status, batch.progress = ImportBatch.Status.DONE, 100
        batch.message = _(
            "%(rows)s rows imported for %(customers)s customers (%(new)s new); "
            "customers analysed again."
        ) % {"rows": counts.rows, "customers": counts.customers, "new": counts.new_customers}
        return batch
    except Exception as error:  # the job page must say why, whatever went wrong
        log.exception("import %s failed", batch.pk)
        batch.status = ImportBatch.Status.FAILED
        batch.message = _("The import failed: %(error)s") % {"error": error}
        return batch
    finally:
        batch.save()


def analysis_run_create(
    *,
    user: AbstractBaseUser | None = None,
    as_of: pd.Timestamp | None = None,
    horizon: int | None = None,
) -> AnalysisRun | None:
    """Analyse every customer's history and store one assessment per customer."""
    history = history_frame()
    if history.empty:
        return None
    config = settings.CUSTOMER_ANALYSIS
    horizon = horizon or config["horizon"]
    thresholds = analysis.Thresholds.from_mapping(config["thresholds"])
    as_of = as_of if as_of is not None else history["period"].max()
    result = analysis.analyse(
        history,
        as_of=as_of,
        horizon=horizon,
        thresholds=thresholds,
        transactions=transactions_frame(),
    )
    output = analysis.to_output_frame(result)
    figures = [c for c in output.columns if c not in OUTPUT_FIELDS]
    # The forecast per future period draws the continuation on the customer page.
    paths = _forecast_paths(result)
    ids = dict(Customer.objects.values_list("number", "pk"))
    with transaction.atomic():
        run = AnalysisRun.objects.create(
            started_by=user,
            as_of=as_of.date(),
            horizon=horizon,
            customers=len(output),
            thresholds=dataclasses.asdict(thresholds),
        )
        figure_rows = output[figures].astype(object).where(output[figures].notna(), None)
        Assessment.objects.bulk_create(
            (
                Assessment(
                    run=run,
                    customer_id=ids[row.customer_id],
                    value_type=row.value_type,
                    current_value=float(row.current_value),
                    future_value=float(row.future_value),
                    hidden_pearl=bool(getattr(row, "hidden_pearl", False)),
                    cost_review=bool(getattr(row, "cost_review", False)),
                    figures={**_jsonable(fig), "forecast_path": paths.get(row.customer_id, [])},
                )
                for row, fig in zip(
                    output.itertuples(index=False),
                    figure_rows.to_dict("records"),
                    strict=True,
                )
            ),
            batch_size=5000,
        )
    return run


OUTPUT_FIELDS = {"customer_id", "value_type", "current_value", "future_value"}


def _forecast_paths(result: pd.DataFrame) -> dict[str, list[float]]:
    if "forecast_path" not in result:
        return {}
    paths = result["forecast_path"]
    if "customer_id" in result:
        paths = pd.Series(paths.to_numpy(), index=result["customer_id"].astype(str))
    return {str(k): [round(float(v), 2) for v in path] for k, path in paths.items()}


def _jsonable(figures: dict) -> dict:
    out = {}
    for key, value in figures.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not np.isfinite(value):
            value = None
        out[key] = value
    return out
