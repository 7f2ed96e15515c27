"""Reads: the value history as a DataFrame, assessments of the latest run."""

import pandas as pd
from django.db.models import QuerySet

from .models import AnalysisRun, Assessment, Purchase, ValueRecord

HISTORY_COLUMNS = ["customer_id", "period", "revenue", "margin"]


def history_frame() -> pd.DataFrame:
    """All value records as the analysis expects them (see customers.analysis).

    Decimals become floats and dates datetime64 here, once: object columns would defeat
    the vectorised analysis.
    """
    rows = ValueRecord.objects.values_list("customer__number", "period", "revenue", "margin")
    frame = pd.DataFrame.from_records(rows.iterator(chunk_size=20000), columns=HISTORY_COLUMNS)
    if frame.empty:
        return frame.astype(
            {"customer_id": str, "period": "datetime64[ns]", "revenue": float, "margin": float}
        )
    frame["customer_id"] = frame["customer_id"].astype(str)
    frame["period"] = pd.to_datetime(frame["period"])
    frame["revenue"] = pd.to_numeric(frame["revenue"], errors="coerce").astype(float)
    frame["margin"] = pd.to_numeric(frame["margin"], errors="coerce").astype(float)
    return frame


def transactions_frame() -> pd.DataFrame | None:
    """The stored purchases of per-transaction imports, or None if there are none."""
    rows = Purchase.objects.values_list("customer__number", "date", "amount", "margin")
    frame = pd.DataFrame.from_records(
        rows.iterator(chunk_size=20000), columns=["customer_id", "date", "amount", "margin"]
    )
    if frame.empty:
        return None
    frame["customer_id"] = frame["customer_id"].astype(str)
    frame["date"] = pd.to_datetime(frame["date"])
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").astype(float)
    frame["margin"] = pd.to_numeric(frame["margin"], errors="coerce").astype(float)
    return frame


def latest_run() -> AnalysisRun | None:
    return AnalysisRun.objects.order_by("-created_at", "-pk").first()


def assessment_list(run: AnalysisRun) -> QuerySet[Assessment]:
    return Assessment.objects.filter(run=run).select_related("customer__actor")
