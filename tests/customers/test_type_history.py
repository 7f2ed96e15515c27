"""The type over time: one entry per period, however often the analysis runs."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import AnalysisRun, Assessment
from customers.selectors import assessment_history
from customers.services import analysis_run_create

pytestmark = pytest.mark.django_db


def _later_period(run: AnalysisRun, as_of: datetime.date) -> AnalysisRun:
    """The run, as if it had looked at a later period."""
    AnalysisRun.objects.filter(pk=run.pk).update(as_of=as_of)
    run.refresh_from_db()
    return run


def test_three_runs_in_the_same_period_are_one_entry(client_manager, analysed):
    customer = Assessment.objects.filter(run=analysed).first().customer
    second, third = analysis_run_create(), analysis_run_create()
    assert analysed.as_of == second.as_of == third.as_of
    # The last run of the period counts.
    Assessment.objects.filter(run=third, customer=customer).update(value_type="bell")

    response = client_manager.get(f"/customers/{customer.pk}/")

    timeline = response.context["timeline"]
    assert [(e.as_of, e.value_type) for e in timeline] == [(analysed.as_of, "bell")]
    assert response.context["latest"].run == third
    assert response.content.decode().count('class="badge type-bell"') == 2  # head, timeline


def test_each_period_keeps_its_latest_run_in_the_order_of_the_periods(analysed):
    customer = Assessment.objects.filter(run=analysed).first().customer
    july = _later_period(analysis_run_create(), datetime.date(2026, 7, 1))
    again = analysis_run_create()  # June again, after the July run
    Assessment.objects.filter(run=again, customer=customer).update(value_type="cyclic")
    Assessment.objects.filter(run=july, customer=customer).update(value_type="growth")

    history = assessment_history(customer)

    assert [(a.run.as_of, a.run_id, a.value_type) for a in history] == [
        (analysed.as_of, again.pk, "cyclic"),
        (july.as_of, july.pk, "growth"),
    ]


def test_a_type_change_between_periods_is_an_early_warning(client_manager, analysed):
    customer = Assessment.objects.filter(run=analysed).first().customer
    Assessment.objects.filter(run=analysed, customer=customer).update(value_type="growth")
    later = _later_period(analysis_run_create(), datetime.date(2026, 7, 1))
    Assessment.objects.filter(run=later, customer=customer).update(value_type="bell")
    # A rerun of the first period does not come between them.
    rerun = _later_period(analysis_run_create(), analysed.as_of)
    Assessment.objects.filter(run=rerun, customer=customer).update(value_type="growth")

    body = client_manager.get(f"/customers/{customer.pk}/").content.decode()

    assert "Early warning" in body


def test_the_customer_page_reads_the_history_in_constant_queries(client_manager, analysed):
    customer = Assessment.objects.filter(run=analysed).first().customer
    url = f"/customers/{customer.pk}/"
    with CaptureQueriesContext(connection) as one_run:
        client_manager.get(url)
    for _ in range(3):
        analysis_run_create()
    _later_period(analysis_run_create(), datetime.date(2026, 7, 1))

    with CaptureQueriesContext(connection) as five_runs:
        response = client_manager.get(url)

    assert len(five_runs) == len(one_run)
    assert len(response.context["timeline"]) == 2
