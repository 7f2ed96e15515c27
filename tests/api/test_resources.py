"""GET /api/v1/actors, /success-factors, /value-records, /imports, /analysis-runs: the
pages' access rules, paging, filters, constant query counts, 422 on bad filters."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import AnalysisRun, Assessment, Customer, ImportBatch, ValueRecord
from tests.factories import (
    api_auth,
    make_actor,
    make_chain,
    make_kind,
    make_link,
    make_success_factor,
    make_user,
)


def _get(client, user, url):
    return client.get(url, headers=api_auth(user))


def _queries(client, headers, url) -> int:
    """The queries of a call after a first one (which also records the token's use)."""
    client.get(url, headers=headers)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, headers=headers).status_code == 200
    return len(queries)


@pytest.fixture
def reader(team):
    """A team member without a role: reads the team's chains, changes none."""
    return make_user("rita", team, roles=())


@pytest.fixture
def stranger_reader(other_team, outsider):
    """A reader of another team, whose chain has its own member."""
    make_link(make_chain(other_team, outsider, "Pipes"), actor=make_actor("Foreign Ltd"))
    return make_user("sven", other_team, roles=())


@pytest.fixture
def members(chain):
    glue = make_success_factor("Price")
    make_success_factor("Unused factor")
    a = make_link(chain, actor=make_actor("Alpha GmbH", kind=make_kind("Wholesale"))).actor
    b = make_link(chain, actor=make_actor("Beta AG")).actor
    a.links.first().success_factors.add(glue)
    orphan = make_actor("Orphan KG")  # in the catalog, in no chain
    return a, b, orphan


# Actors ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_who_may_change_a_chain_sees_the_whole_catalog(client, owner, members):
    data = _get(client, owner, "/api/v1/actors").json()
    assert [a["name"] for a in data["items"]] == ["Alpha GmbH", "Beta AG", "Orphan KG"]
    assert data["items"][0]["kind"] == "Wholesale"


@pytest.mark.django_db
def test_a_reader_sees_the_members_of_their_teams_chains_only(
    client, reader, stranger_reader, members
):
    names = [a["name"] for a in _get(client, reader, "/api/v1/actors").json()["items"]]
    assert names == ["Alpha GmbH", "Beta AG"]
    foreign = [a["name"] for a in _get(client, stranger_reader, "/api/v1/actors").json()["items"]]
    assert foreign == ["Foreign Ltd"]
    a, _b, orphan = members
    assert _get(client, stranger_reader, f"/api/v1/actors/{a.pk}").status_code == 404
    assert _get(client, reader, f"/api/v1/actors/{orphan.pk}").status_code == 404
    assert _get(client, reader, f"/api/v1/actors/{a.pk}").json()["name"] == "Alpha GmbH"


@pytest.mark.django_db
def test_actors_filter_by_kind_and_name_and_page(client, owner, members):
    headers = api_auth(owner)
    wholesale = client.get("/api/v1/actors?kind=Wholesale", headers=headers).json()
    assert [a["name"] for a in wholesale["items"]] == ["Alpha GmbH"]
    named = client.get("/api/v1/actors?name=bet", headers=headers).json()
    assert [a["name"] for a in named["items"]] == ["Beta AG"]
    page = client.get("/api/v1/actors?page=2&page_size=2", headers=headers).json()
    assert page["count"] == 3
    assert [a["name"] for a in page["items"]] == ["Orphan KG"]
    assert client.get("/api/v1/actors?name=", headers=headers).status_code == 422
    assert client.get("/api/v1/actors?page=0", headers=headers).status_code == 422


@pytest.mark.django_db
def test_actors_cost_the_same_queries_for_more_rows(client, reader, chain, members):
    headers = api_auth(reader)
    few = _queries(client, headers, "/api/v1/actors")
    for n in range(5):
        make_link(chain, actor=make_actor(f"More {n}", kind=make_kind(f"Kind {n}")))
    assert _queries(client, headers, "/api/v1/actors") == few


# Success factors ------------------------------------------------------------------------


@pytest.mark.django_db
def test_success_factors_as_the_pages_show_them(client, owner, reader, stranger_reader, members):
    every = [f["name"] for f in _get(client, owner, "/api/v1/success-factors").json()["items"]]
    assert every == ["Price", "Unused factor"]
    used = [f["name"] for f in _get(client, reader, "/api/v1/success-factors").json()["items"]]
    assert used == ["Price"]
    assert _get(client, stranger_reader, "/api/v1/success-factors").json()["count"] == 0


# Value records --------------------------------------------------------------------------


@pytest.fixture
def records(chain, members):
    a = Customer.objects.create(number="K-1", actor=members[0])
    b = Customer.objects.create(number="K-2", actor=members[1])
    stranger = Customer.objects.create(number="K-9")
    for customer in (a, b, stranger):
        for month in (1, 2, 3):
            ValueRecord.objects.create(
                customer=customer,
                period=datetime.date(2026, month, 1),
                product="Glue" if month < 3 else "",
                revenue=Decimal("100.50"),
            )
    return a, b, stranger


@pytest.mark.django_db
def test_value_records_of_the_visible_customers_only(client, owner, outsider, manager, records):
    data = _get(client, owner, "/api/v1/value-records?page_size=500").json()
    assert data["count"] == 6
    assert {r["customer_number"] for r in data["items"]} == {"K-1", "K-2"}
    assert data["items"][0]["revenue"] == 100.5
    assert _get(client, outsider, "/api/v1/value-records").json()["count"] == 0
    assert _get(client, manager, "/api/v1/value-records").json()["count"] == 9
    stranger = records[2]
    url = f"/api/v1/value-records?customer={stranger.pk}"
    assert _get(client, owner, url).json()["count"] == 0


@pytest.mark.django_db
def test_value_records_filter_and_page(client, owner, records):
    headers = api_auth(owner)

    def count(query):
        return client.get(f"/api/v1/value-records?{query}", headers=headers).json()["count"]

    assert count(f"customer={records[0].pk}") == 3
    assert count("customer_number=K-2") == 3
    assert count("period_from=2026-02-01") == 4
    assert count("period_to=2026-01-31") == 2
    assert count("period_from=2026-02-01&period_to=2026-02-28&customer_number=K-1") == 1
    assert count("product=Glue") == 4
    page = client.get("/api/v1/value-records?page=3&page_size=2", headers=headers).json()
    assert [r["customer_number"] for r in page["items"]] == ["K-2", "K-2"]
    for bad in ("customer=x", "customer=0", "period_from=2026-13-01", "period_to=soon"):
        assert client.get(f"/api/v1/value-records?{bad}", headers=headers).status_code == 422


@pytest.mark.django_db
def test_value_records_cost_the_same_queries_for_more_rows(client, owner, records):
    headers = api_auth(owner)
    few = _queries(client, headers, "/api/v1/value-records")
    for month in (4, 5, 6, 7):
        ValueRecord.objects.create(
            customer=records[0], period=datetime.date(2026, month, 1), revenue=1
        )
    assert _queries(client, headers, "/api/v1/value-records") == few


# Imports --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_imports_for_who_may_import_as_on_the_page(client, owner, manager):
    for status in ("done", "failed", "done"):
        ImportBatch.objects.create(file_name=f"{status}.csv", status=status)
    assert _get(client, owner, "/api/v1/imports").status_code == 403
    headers = api_auth(manager)
    data = client.get("/api/v1/imports", headers=headers).json()
    assert [b["file_name"] for b in data["items"]] == ["done.csv", "failed.csv", "done.csv"]
    failed = client.get("/api/v1/imports?status=failed", headers=headers).json()
    assert failed["count"] == 1
    page = client.get("/api/v1/imports?page=2&page_size=2", headers=headers).json()
    assert [b["file_name"] for b in page["items"]] == ["done.csv"]
    assert client.get("/api/v1/imports?status=lost", headers=headers).status_code == 422
    few = _queries(client, headers, "/api/v1/imports")
    ImportBatch.objects.create(file_name="more.csv")
    assert _queries(client, headers, "/api/v1/imports") == few


# Analysis runs --------------------------------------------------------------------------


@pytest.fixture
def runs(records):
    a, b, stranger = records
    old = AnalysisRun.objects.create(as_of=datetime.date(2026, 2, 1), customers=3)
    new = AnalysisRun.objects.create(
        as_of=datetime.date(2026, 3, 1),
        customers=3,
        thresholds={"growth_min": 0.1},
        backtest={"status": "done", "overall": {"mape": 0.2}},
    )
    for customer, value_type in ((a, "growth"), (b, "growth"), (stranger, "steady")):
        Assessment.objects.create(
            run=new, customer=customer, value_type=value_type, current_value=1, future_value=1
        )
    return old, new


@pytest.mark.django_db
def test_runs_with_the_counts_of_the_visible_customers(client, owner, manager, runs):
    old, new = runs
    data = _get(client, owner, "/api/v1/analysis-runs").json()
    assert [r["id"] for r in data["items"]] == [old.pk, new.pk]
    # Every team's count and the portfolio's backtest: for who sees every customer.
    assert data["items"][1]["customers"] is None
    mine = _get(client, owner, f"/api/v1/analysis-runs/{new.pk}").json()
    assert mine["value_type_counts"] == [{"value_type": "growth", "count": 2}]
    assert mine["backtest"] is None
    assert mine["thresholds"] == {"growth_min": 0.1}
    every = _get(client, manager, f"/api/v1/analysis-runs/{new.pk}").json()
    assert every["customers"] == 3
    assert every["backtest"]["overall"] == {"mape": 0.2}
    assert every["threshold_version"] is None
    assert every["value_type_counts"] == [
        {"value_type": "growth", "count": 2},
        {"value_type": "steady", "count": 1},
    ]
    page = _get(client, manager, "/api/v1/analysis-runs?page=2&page_size=1").json()
    assert [r["as_of"] for r in page["items"]] == ["2026-03-01"]


@pytest.mark.django_db
def test_runs_need_the_customer_pages(client, reader, manager, runs):
    assert _get(client, reader, "/api/v1/analysis-runs").status_code == 403
    assert _get(client, reader, f"/api/v1/analysis-runs/{runs[1].pk}").status_code == 403
    assert _get(client, manager, "/api/v1/analysis-runs/999999").status_code == 404
    assert _get(client, manager, "/api/v1/analysis-runs?page=x").status_code == 422


@pytest.mark.django_db
def test_runs_cost_the_same_queries_for_more_rows(client, manager, runs):
    headers = api_auth(manager)
    new = runs[1]
    list_few = _queries(client, headers, "/api/v1/analysis-runs")
    detail_few = _queries(client, headers, f"/api/v1/analysis-runs/{new.pk}")
    for n in range(4):
        AnalysisRun.objects.create(as_of=datetime.date(2026, 1, 1))
        customer = Customer.objects.create(number=f"K-X{n}")
        Assessment.objects.create(
            run=new, customer=customer, value_type="bell", current_value=1, future_value=1
        )
    assert _queries(client, headers, "/api/v1/analysis-runs") == list_few
    assert _queries(client, headers, f"/api/v1/analysis-runs/{new.pk}") == detail_few
