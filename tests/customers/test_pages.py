"""Customer list, portfolio, customer page, focus list and exports, on imported data."""

import datetime
import io

import openpyxl
import pandas as pd
import pytest

from customers.models import AnalysisRun, Assessment, Customer
from customers.services import analysis_run_create, value_records_load
from customers.synthetic import generate
from tests.factories import make_actor


@pytest.mark.django_db
def test_pages_show_an_empty_state_before_any_analysis(client_manager):
    for url in ["/customers/", "/customers/portfolio/", "/customers/focus/"]:
        assert "No analysis yet." in client_manager.get(url).content.decode()


@pytest.mark.django_db
def test_the_list_filters_by_type_and_sorts(client_manager, analysed, htmx_headers):
    value_type = Assessment.objects.filter(run=analysed).values_list("value_type", flat=True)[0]
    url = f"/customers/?type={value_type}&sort=future"
    assert "<html" not in client_manager.get(url, headers=htmx_headers).content.decode()
    shown = client_manager.get(url).context["page"].object_list
    assert shown and all(a.value_type == value_type for a in shown)
    futures = [a.future_value for a in shown]
    assert futures == sorted(futures, reverse=True)


@pytest.mark.django_db
def test_the_list_searches(client_manager, analysed):
    customer = Customer.objects.order_by("number").first()
    response = client_manager.get(f"/customers/?q={customer.number}")
    assert [a.customer for a in response.context["page"].object_list][:1] == [customer]


@pytest.mark.django_db
def test_the_list_keeps_its_query_count(client_manager, analysed, django_assert_num_queries):
    # session, user, permissions (2), latest run, count, page of assessments, the running
    # chunked analysis (customers/jobs.py)
    with django_assert_num_queries(8):
        client_manager.get("/customers/")
    more, _types, _future = generate(120, seed=8, as_of=pd.Timestamp("2026-06-01"))
    value_records_load(history=more.assign(customer_id="M" + more["customer_id"].astype(str)))
    analysis_run_create()
    with django_assert_num_queries(8):
        client_manager.get("/customers/")


@pytest.mark.django_db
def test_the_portfolio_plots_every_customer_and_explains_the_types(client_manager, analysed):
    body = client_manager.get("/customers/portfolio/").content.decode()
    assert 'id="portfolio-chart"' in body
    assert "js/plotly-strict.min.js" in body and "cdn.plot.ly" not in body
    assert "Steady customer" in body and "How to handle it" in body


@pytest.mark.django_db
def test_the_customer_page_explains_the_type(client_manager, analysed):
    assessment = Assessment.objects.filter(run=analysed, value_type="growth").first()
    body = client_manager.get(f"/customers/{assessment.customer_id}/").content.decode()
    assert "Growth customer" in body
    assert "Why this type" in body and "Periods since first business" in body
    assert "A rising trend of" in body
    assert 'id="history-chart"' in body


@pytest.mark.django_db
def test_a_type_change_shows_an_early_warning(client_manager, analysed):
    assessment = Assessment.objects.filter(run=analysed).first()
    later = analysis_run_create()
    # The next period's run: runs of the same period are one entry of the type history.
    AnalysisRun.objects.filter(pk=later.pk).update(as_of=datetime.date(2026, 7, 1))
    Assessment.objects.filter(run=analysed, customer=assessment.customer).update(
        value_type="growth"
    )
    Assessment.objects.filter(run=later, customer=assessment.customer).update(value_type="bell")
    body = client_manager.get(f"/customers/{assessment.customer_id}/").content.decode()
    assert "Early warning" in body


@pytest.mark.django_db
def test_a_customer_is_linked_to_a_chain_actor(client, manager, analysed):
    client.force_login(manager)
    customer = Customer.objects.first()
    actor = make_actor("Tile Trade Ltd")
    response = client.post(f"/customers/{customer.pk}/actor/", {"actor": actor.pk})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.actor == actor


@pytest.mark.django_db
def test_only_users_who_keep_customer_data_link_actors(client_owner, analysed):
    customer = Customer.objects.first()
    actor = make_actor("Tile Trade Ltd")
    response = client_owner.post(f"/customers/{customer.pk}/actor/", {"actor": actor.pk})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.actor is None


@pytest.mark.django_db
def test_the_focus_list_names_goals_pearls_and_burrs(client_manager, analysed):
    body = client_manager.get("/customers/focus/").content.decode()
    for heading in ["Revenue growth", "Profitability", "Innovation", "Hidden pearls"]:
        assert heading in body
    assert "Cost-to-serve review" in body


@pytest.mark.django_db
def test_exports_hold_every_assessment(client_manager, analysed):
    n = Assessment.objects.filter(run=analysed).count()
    csv_body = client_manager.get("/customers/export.csv").content.decode()
    frame = pd.read_csv(io.StringIO(csv_body))
    assert len(frame) == n
    assert list(frame.columns[:6]) == [
        "Customer number",
        "Customer name",
        "Value type",
        "Value basis",
        "Current value",
        "Future value",
    ]
    xlsx = client_manager.get("/customers/export.xlsx").content
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet.max_row == n + 1
    assert sheet.cell(1, 3).value == "Value type"
