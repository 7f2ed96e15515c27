"""Stored analysis runs stay small (customers/retention.py), and what is stored reads back
as the analysis made it, by COPY on PostgreSQL as by INSERT on SQLite."""

import math

import numpy as np
import pandas as pd
import pytest

from customers import analysis, retention, services
from customers.models import AnalysisRun, Assessment, Customer
from customers.selectors import assessment_history
from customers.services import analysis_run_create, value_records_load


def _history(customer: str, values: list[float]) -> pd.DataFrame:
    periods = pd.date_range("2024-01-01", periods=len(values), freq="MS")
    return pd.DataFrame(
        {
            "customer_id": customer,
            "customer_name": "",
            "period": periods,
            "revenue": values,
            "margin": [v * 0.3 for v in values],
        }
    )


@pytest.fixture
def portfolio(db):
    grower = _history("K-1", [100.0 * 1.05**i for i in range(30)])
    steady = _history("K-2", [500.0 + (i % 3) for i in range(30)])
    value_records_load(history=pd.concat([grower, steady], ignore_index=True))


def _run(month: str) -> AnalysisRun:
    # The newest runs stay whole: here only the latest, so that each run compacts.
    return analysis_run_create(as_of=pd.Timestamp(month))


@pytest.mark.django_db
def test_older_runs_keep_one_run_per_period_and_only_the_type(portfolio, settings):
    settings.ANALYSIS_KEEP_FULL_RUNS = 1
    first_january = _run("2026-01-01")
    second_january = _run("2026-01-01")  # "Analyse again" in the same period
    february = _run("2026-02-01")
    march = _run("2026-03-01")
    # The run replaced within its period is gone; the others stay.
    assert set(AnalysisRun.objects.values_list("pk", flat=True)) == {
        second_january.pk,
        february.pk,
        march.pk,
    }
    assert not Assessment.objects.filter(run=first_january.pk).exists()
    # The latest run keeps its figures; the older ones the type, the values and the basis.
    latest = Assessment.objects.get(run=march, customer__number="K-1", product="")
    assert len(latest.figures["forecast_path"]) == march.horizon
    assert len(latest.figures) > 5
    for run in (second_january, february):
        kept = Assessment.objects.filter(run=run)
        assert kept.count() == 2
        for assessment in kept:
            assert assessment.figures == {"value_basis": "margin"}
            assert assessment.value_type and assessment.future_value >= 0
    # The type history still has one entry per period.
    history = assessment_history(Customer.objects.get(number="K-1"))
    assert [a.run_id for a in history] == [second_january.pk, february.pk, march.pk]
    assert all(a.value_basis == "margin" for a in history)


@pytest.mark.django_db
def test_a_retention_of_periods_drops_the_older_periods(portfolio, settings):
    settings.ANALYSIS_KEEP_FULL_RUNS = 2
    settings.ANALYSIS_KEEP_PERIODS = 2
    january, february, march = (_run(m) for m in ("2026-01-01", "2026-02-01", "2026-03-01"))
    assert set(AnalysisRun.objects.values_list("pk", flat=True)) == {february.pk, march.pk}
    # Both newest runs are whole (the type changes compare them).
    for run in (february, march):
        assert all("forecast_path" in a.figures for a in Assessment.objects.filter(run=run))
    assert not Assessment.objects.filter(run=january.pk).exists()


@pytest.mark.django_db
def test_a_dry_run_counts_and_changes_nothing(portfolio, settings):
    settings.ANALYSIS_KEEP_FULL_RUNS = 5  # the analysis itself compacts nothing
    for month in ("2026-01-01", "2026-01-01", "2026-02-01"):
        _run(month)
    outcome = retention.analysis_runs_compact(keep_full=1, dry_run=True)
    assert (outcome.runs_deleted, outcome.assessments_deleted) == (1, 2)
    assert outcome.assessments_reduced == 2
    assert AnalysisRun.objects.count() == 3
    assert Assessment.objects.filter(figures__has_key="forecast_path").count() == 6
    done = retention.analysis_runs_compact(keep_full=1)
    assert done == outcome
    assert retention.analysis_runs_compact(keep_full=1).assessments_reduced == 0


@pytest.mark.django_db
def test_the_stored_assessments_read_back_as_the_analysis_made_them(db):
    """Not-a-number and infinite figures become null, flags booleans, the forecast path
    rounded to cents; on PostgreSQL this goes through COPY."""
    customers = [Customer.objects.create(number=n) for n in ("A", "B")]
    result = pd.DataFrame(
        {
            "value_type": ["growth", "burr"],
            "current_value": [100.0, -5.5],
            "future_value": [140.25, 0.0],
            "value_basis": ["margin", "revenue"],
            "hidden_pearl": [True, False],
            "cost_review": [False, True],
            "trend": [0.123456789, np.nan],
            "cycle_months": [np.inf, 12.0],
            "forecast_path": [np.array([10.004, 11.0051, 12.0]), np.array([0.0, 0.0, 0.0])],
        },
        index=pd.Index(["A", "B"], name=analysis.CUSTOMER_ID),
    )
    run = AnalysisRun.objects.create(as_of="2026-01-01", horizon=3)
    services._assessments_create(run, result, {c.number: c.pk for c in customers}, "Kleber")
    a, b = (Assessment.objects.get(run=run, customer__number=n) for n in ("A", "B"))
    assert (a.value_type, a.current_value, a.future_value) == ("growth", 100.0, 140.25)
    assert (a.hidden_pearl, a.cost_review, b.hidden_pearl, b.cost_review) == (
        True,
        False,
        False,
        True,
    )
    assert a.product == b.product == "Kleber"
    assert math.isclose(a.figures["trend"], 0.123456789)
    assert b.figures["trend"] is None and a.figures["cycle_months"] is None
    assert b.figures["cycle_months"] == 12.0
    assert a.figures["forecast_path"] == [10.0, 11.01, 12.0]
    assert (a.figures["value_basis"], b.figures["value_basis"]) == ("margin", "revenue")


@pytest.mark.django_db
def test_the_command_says_what_it_would_do_and_refuses_nonsense(portfolio, settings):
    import io

    from django.core.management import CommandError, call_command

    settings.ANALYSIS_KEEP_FULL_RUNS = 5
    _run("2026-01-01")
    _run("2026-02-01")
    out = io.StringIO()
    call_command("compact_analyses", "--keep-full", "1", "--dry-run", stdout=out)
    assert out.getvalue().startswith("Would do: 0 runs deleted (0 assessments), 2 assessments")
    assert Assessment.objects.filter(figures__has_key="forecast_path").count() == 4
    call_command("compact_analyses", "--keep-full", "1", stdout=out)
    assert Assessment.objects.filter(figures__has_key="forecast_path").count() == 2
    with pytest.raises(CommandError, match="--keep-periods must be 0 or more"):
        call_command("compact_analyses", "--keep-periods", "-1")
