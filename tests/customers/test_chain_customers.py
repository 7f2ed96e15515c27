"""The chain page's customers tab: the customers in the chain's scope and their value."""

import ast
import datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chain.models import Chain
from customers.models import AnalysisRun, Assessment, Customer, ValueRecord
from customers.selectors import _has_field
from tests.factories import make_chain, make_link

PRODUCTS = _has_field(ValueRecord, "product")
SEGMENTS = _has_field(Customer, "segment")
needs_products = pytest.mark.skipif(not PRODUCTS, reason="value records without products")
needs_segments = pytest.mark.skipif(not SEGMENTS, reason="customers without segments")


def _customer(number, run, *, actor=None, product="", segment="", value_type="steady", value=1000):
    fields = {"segment": segment} if SEGMENTS else {}
    customer = Customer.objects.create(number=number, name=f"Firma {number}", actor=actor, **fields)
    record = {"product": product} if PRODUCTS else {}
    ValueRecord.objects.create(
        customer=customer,
        period=datetime.date(2026, 5, 1),
        revenue=value,
        margin=value / 4,
        **record,
    )
    Assessment.objects.create(
        run=run,
        customer=customer,
        value_type=value_type,
        current_value=value,
        future_value=value * 1.1,
    )
    return customer


@pytest.fixture
def run(db):
    return AnalysisRun.objects.create(as_of=datetime.date(2026, 5, 1))


@pytest.fixture
def scope(chain, run):
    """The chain is about "Mounting glue": one customer through an actor, one through the
    product, one of nothing the chain is about."""
    link = make_link(chain)
    return {
        "link": link,
        "linked": _customer("K-LINK", run, actor=link.actor, value_type="growth", value=5000),
        "product": _customer("K-PROD", run, product="MOUNTING glue", value=3000),
        "other": _customer("K-OTHER", run, product="Floor screed", value=9000),
    }


def _url(chain, query=""):
    return f"/customers/chain/{chain.pk}/{query}"


@pytest.mark.django_db
def test_it_lists_the_customers_linked_to_the_actors_and_of_the_product(client_owner, chain, scope):
    response = client_owner.get(_url(chain))
    assert response.status_code == 200
    body = response.content.decode()
    assert "K-LINK" in body
    assert ("K-PROD" in body) == PRODUCTS
    assert "K-OTHER" not in body
    # Through what the customer belongs to the chain: its actor's name.
    assert scope["link"].actor.name in body


@pytest.mark.django_db
@needs_segments
def test_a_customer_type_chain_lists_the_customers_of_its_segment(client_owner, team, owner, run):
    hospitals = make_chain(team, owner, scope_name="Hospitals")
    hospitals.scope_kind = Chain.ScopeKind.CUSTOMER_TYPE
    hospitals.customer_type = "growth"
    hospitals.save()
    _customer("K-HOSP", run, segment="hospitals", value_type="growth")
    _customer("K-SCHOOL", run, segment="Schools")
    body = client_owner.get(_url(hospitals)).content.decode()
    assert "K-HOSP" in body
    assert "K-SCHOOL" not in body
    # The chain's own value type is marked among the filters.
    assert "★" in body


@pytest.mark.django_db
def test_the_actor_filter_shows_only_that_actors_customers(client_owner, chain, scope):
    actor = scope["link"].actor
    body = client_owner.get(_url(chain, f"?actor={actor.pk}")).content.decode()
    assert "K-LINK" in body
    assert "K-PROD" not in body
    assert f"Customers linked to {actor.name}" in body


@pytest.mark.django_db
def test_an_actor_of_another_chain_does_not_filter(client_owner, chain, scope, other_team):
    stranger = make_link(make_chain(other_team, scope_name="Roof"))
    body = client_owner.get(_url(chain, f"?actor={stranger.actor_id}")).content.decode()
    assert "K-LINK" in body


@pytest.mark.django_db
def test_the_value_type_filter(client_owner, chain, scope):
    body = client_owner.get(_url(chain, "?type=growth")).content.decode()
    assert "K-LINK" in body
    assert "K-PROD" not in body.split('id="chain-customer-table"')[1].split("</table>")[0]


@pytest.mark.django_db
@needs_products
def test_a_product_chain_shows_the_customers_value_in_that_product(client_owner, chain, scope, run):
    Assessment.objects.create(
        run=run,
        customer=scope["product"],
        product="Mounting glue",
        value_type="shrinking",
        current_value=1234,
        future_value=567,
    )
    body = client_owner.get(_url(chain)).content.decode()
    table = body.split('id="chain-customer-table"')[1].split("</table>")[0]
    assert "1,234" in table
    assert "type-shrinking" in table


@pytest.mark.django_db
def test_it_shows_sums_per_basis_a_chart_and_the_focus_for_the_chains_goal(
    client_owner, chain, scope
):
    body = client_owner.get(_url(chain)).content.decode()
    assert 'class="table compact chain-totals"' in body
    assert f'id="chain-portfolio-{chain.pk}"' in body
    assert "Focus for the chain’s goal: Revenue growth" in body


@pytest.mark.django_db
def test_htmx_gets_the_region_only(client_owner, chain, scope, htmx_headers):
    body = client_owner.get(_url(chain), headers=htmx_headers).content.decode()
    assert "<html" not in body
    assert 'id="chain-customers-content"' in body


@pytest.mark.django_db
def test_a_user_who_may_not_see_the_chain_gets_404(client, chain, scope, outsider):
    client.force_login(outsider)
    assert client.get(_url(chain)).status_code == 404
    assert client.get(_url(chain, f"?actor={scope['link'].actor_id}")).status_code == 404


@pytest.mark.django_db
def test_a_manager_sees_any_chains_customers(client, chain, scope, manager):
    client.force_login(manager)
    assert "K-LINK" in client.get(_url(chain)).content.decode()


@pytest.mark.django_db
def test_it_keeps_its_query_count_as_customers_grow(client_owner, chain, scope, run):
    client_owner.get(_url(chain))

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client_owner.get(_url(chain))
        return len(ctx)

    before = count()
    for i in range(12):
        _customer(f"K-MORE-{i}", run, actor=scope["link"].actor, value_type="bell")
    assert count() == before


@pytest.mark.django_db
def test_the_chain_page_has_a_customers_tab_that_loads_this_region(client_owner, chain, scope):
    actor = scope["link"].actor
    body = client_owner.get(f"{chain.get_absolute_url()}?tab=customers&actor={actor.pk}")
    body = body.content.decode()
    assert 'id="tab-customers"' in body
    assert f'hx-get="/customers/chain/{chain.pk}/?actor={actor.pk}"' in body
    # The actor's card links to its customers.
    body = client_owner.get(f"{chain.get_absolute_url()}?tab=board").content.decode()
    assert f'href="/chains/{chain.pk}/?tab=customers&amp;actor={actor.pk}"' in body


def test_the_chain_app_knows_nothing_of_customers_for_this():
    """customers builds on chain: the decorations reach the chain page through a hook."""
    source = (Path(__file__).parents[2] / "chain" / "decorations.py").read_text()
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name and name.startswith("customers")]
