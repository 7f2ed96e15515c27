"""GET /api/v1/customers and /api/v1/customers/{id}: the customer pages' access rules."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import AnalysisRun, Assessment, Customer
from tests.factories import api_auth, make_link


def _assess(run, customer, value_type, value=100.0):
    return Assessment.objects.create(
        run=run, customer=customer, value_type=value_type, current_value=value, future_value=value
    )


@pytest.fixture
def ours(chain):
    """Two customers linked to the team's chain, assessed in two runs, and a stranger."""
    actor = make_link(chain).actor
    a = Customer.objects.create(number="K-1", name="Alpha", actor=actor)
    b = Customer.objects.create(number="K-2", name="Beta", actor=actor)
    Customer.objects.create(number="K-9", name="Stranger")
    old = AnalysisRun.objects.create(as_of=datetime.date(2026, 4, 1))
    _assess(old, a, "steady")
    _assess(old, b, "bell")
    new = AnalysisRun.objects.create(as_of=datetime.date(2026, 5, 1))
    _assess(new, a, "growth", 900.0)
    _assess(new, b, "bell")
    return a, b


@pytest.mark.django_db
def test_it_lists_the_teams_customers_with_their_latest_assessment(client, owner, ours):
    response = client.get("/api/v1/customers", headers=api_auth(owner))
    assert response.status_code == 200
    data = response.json()
    assert [c["number"] for c in data["items"]] == ["K-1", "K-2"]
    latest = data["items"][0]["latest_assessment"]
    assert latest["value_type"] == "growth"
    assert latest["current_value"] == 900.0
    assert latest["as_of"] == "2026-05-01"
    assert latest["value_basis"] == "revenue"


@pytest.mark.django_db
def test_a_manager_lists_every_customer(client, manager, ours):
    data = client.get("/api/v1/customers", headers=api_auth(manager)).json()
    assert data["count"] == 3
    assert data["items"][2]["latest_assessment"] is None


@pytest.mark.django_db
def test_it_filters_by_the_latest_value_type_and_pages(client, manager, ours):
    headers = api_auth(manager)
    bell = client.get("/api/v1/customers?value_type=bell", headers=headers).json()
    assert [c["number"] for c in bell["items"]] == ["K-2"]
    # Steady in the earlier run only: not steady now.
    assert client.get("/api/v1/customers?value_type=steady", headers=headers).json()["count"] == 0
    page = client.get("/api/v1/customers?page=2&page_size=2", headers=headers).json()
    assert [c["number"] for c in page["items"]] == ["K-9"]


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_for_more_customers(client, manager, ours):
    headers = api_auth(manager)
    client.get("/api/v1/customers", headers=headers)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/customers", headers=headers)
    run = AnalysisRun.objects.order_by("-pk").first()
    for n in range(10):
        _assess(run, Customer.objects.create(number=f"K-X{n}"), "cyclic")
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/customers", headers=headers)
    assert response.json()["count"] == 13
    assert len(many) == len(few)


@pytest.mark.django_db
def test_the_detail_has_the_latest_assessment_and_the_type_history(client, owner, ours):
    a, _b = ours
    response = client.get(f"/api/v1/customers/{a.pk}", headers=api_auth(owner))
    assert response.status_code == 200
    data = response.json()
    assert data["latest_assessment"]["value_type"] == "growth"
    assert [h["value_type"] for h in data["history"]] == ["steady", "growth"]


@pytest.mark.django_db
def test_an_invisible_customer_is_404(client, outsider, ours):
    a, _b = ours
    headers = api_auth(outsider)
    assert client.get(f"/api/v1/customers/{a.pk}", headers=headers).status_code == 404
    assert client.get("/api/v1/customers", headers=headers).json()["count"] == 0


@pytest.mark.django_db
def test_an_unknown_value_type_is_refused(client, manager):
    response = client.get("/api/v1/customers?value_type=pearl", headers=api_auth(manager))
    assert response.status_code == 422
