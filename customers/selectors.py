"""Reads: the value history as a DataFrame, assessments of the latest run."""

import pandas as pd
from django.db.models import QuerySet

from .models import AnalysisRun, Assessment, Purchase, ValueRecord

HISTORY_COLUMNS = ["customer_id", "period", "revenue", "margin"]
TRANSACTION_COLUMNS = ["customer_id", "date", "amount", "margin"]


def _frame(rows: QuerySet, columns: list[str]) -> pd.DataFrame:
    """customer number, a date, then two money columns, as the analysis expects them.

    Decimals become floats and dates datetime64 here, once: object columns would defeat
    the vectorised analysis (see customers.analysis).
    """
    customer, day, *money = columns
    frame = pd.DataFrame.from_records(rows.iterator(chunk_size=20000), columns=columns)
    frame[customer] = frame[customer].astype(str)
    frame[day] = pd.to_datetime(frame[day]).astype("datetime64[ns]")
    for column in money:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def history_frame() -> pd.DataFrame:
    """All value records, one row per customer and month."""
    rows = ValueRecord.objects.values_list("customer__number", "period", "revenue", "margin")
    return _frame(rows, HISTORY_COLUMNS)


def transactions_frame() -> pd.DataFrame | None:
    """The stored purchases of per-transaction imports, or None if there are none."""
    rows = Purchase.objects.values_list("customer__number", "date", "amount", "margin")
    frame = _frame(rows, TRANSACTION_COLUMNS)
    return None if frame.empty else frame


def latest_run() -> AnalysisRun | None:
    return AnalysisRun.objects.order_by("-created_at", "-pk").first()


def assessment_list(run: AnalysisRun) -> QuerySet[Assessment]:
    return Assessment.objects.filter(run=run).select_related("customer__actor")
