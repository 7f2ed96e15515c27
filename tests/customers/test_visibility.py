"""Who sees which customers: sales users those of their teams' chains, managers all.

A customer belongs to a team when it is linked to an actor of one of the team's chains,
when its value records carry the product or service one of the team's chains is about,
or when its segment is the customer type one of the team's chains is about.
"""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chain.models import Chain
from customers.models import AnalysisRun, Assessment, Customer, ValueRecord
from customers.selectors import _has_field, customer_list_for_user
from tests.factories import make_chain, make_link, make_team, make_user

PRODUCTS = _has_field(ValueRecord, "product")
SEGMENTS = _has_field(Customer, "segment")


def _customer(number: str, *, actor=None, product: str = "", segment: str = "") -> Customer:
    fields = {"segment": segment} if SEGMENTS else {}
    customer = Customer.objects.create(number=number, name=f"Firma {number}", actor=actor, **fields)
    record = {"product": product} if PRODUCTS else {}
    ValueRecord.objects.create(
        customer=customer, period=datetime.date(2026, 5, 1), revenue=1000, margin=300, **record
    )
    return customer


@pytest.fixture
def portfolio(chain, other_team, outsider):
    """One customer per way into the owner's team, one of the other team, one of nobody."""
    linked = make_link(chain)
    hospitals = make_chain(chain.team, chain.owner, scope_name="Hospitals")
    hospitals.scope_kind = Chain.ScopeKind.CUSTOMER_TYPE
    hospitals.save()
    theirs = make_link(make_chain(other_team, outsider, scope_name="Floor screed"))
    customers = {
        "linked": _customer("K-LINK", actor=linked.actor),
        # The chain is about "Mounting glue": names compare case-insensitively.
        "product": _customer("K-PROD", product="mounting GLUE"),
        "segment": _customer("K-SEG", segment="hospitals"),
        "theirs": _customer("K-THEIRS", actor=theirs.actor),
        "nobody": _customer("K-NOBODY", product="Paint"),
    }
    run = AnalysisRun.objects.create(as_of=datetime.date(2026, 5, 1))
    for i, customer in enumerate(customers.values()):
        Assessment.objects.create(
            run=run,
            customer=customer,
            value_type="steady",
            current_value=1000 + i,
            future_value=1100 + i,
        )
    return customers


def _numbers(customers) -> set[str]:
    return set(customers.values_list("number", flat=True))


@pytest.mark.django_db
def test_a_sales_user_sees_the_customers_of_their_teams_chains(portfolio, owner, outsider):
    expected = {"K-LINK"} | ({"K-PROD"} if PRODUCTS else set()) | ({"K-SEG"} if SEGMENTS else set())
    assert _numbers(customer_list_for_user(owner)) == expected
    assert _numbers(customer_list_for_user(outsider)) == {"K-THEIRS"}


@pytest.mark.django_db
def test_managers_and_superusers_see_every_customer(portfolio, manager):
    boss = make_user("root", is_superuser=True)
    assert _numbers(customer_list_for_user(manager)) == {c.number for c in portfolio.values()}
    assert _numbers(customer_list_for_user(boss)) == {c.number for c in portfolio.values()}


@pytest.mark.django_db
def test_a_user_without_team_or_role_sees_no_customer(portfolio):
    assert not customer_list_for_user(make_user("newcomer", roles=("sales",))).exists()
    assert not customer_list_for_user(make_user("admin", roles=("administrator",))).exists()


@pytest.mark.django_db
def test_another_teams_customer_page_is_not_found(client, portfolio, outsider):
    client.force_login(outsider)
    assert client.get(f"/customers/{portfolio['linked'].pk}/").status_code == 404
    assert client.get(f"/customers/{portfolio['theirs'].pk}/").status_code == 200


@pytest.mark.django_db
def test_another_teams_customer_cannot_be_linked(client, portfolio, outsider):
    outsider.user_permissions.add(Permission.objects.get(codename="import_values"))
    client.force_login(outsider)
    customer = portfolio["linked"]
    response = client.post(f"/customers/{customer.pk}/actor/", {"actor": customer.actor_id})
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/customers/", "/customers/focus/", "/customers/export.csv"])
def test_lists_and_exports_leave_out_other_teams_customers(client, portfolio, outsider, url):
    client.force_login(outsider)
    body = client.get(url).content.decode()
    assert "K-THEIRS" in body
    assert "K-LINK" not in body
    assert "K-NOBODY" not in body


@pytest.mark.django_db
def test_the_portfolio_of_a_team_without_customers_says_why(client, portfolio):
    client.force_login(make_user("dora", make_team("Sales roofing")))
    body = client.get("/customers/portfolio/").content.decode()
    assert "None of your teams" in body
    assert "K-LINK" not in body


@pytest.mark.django_db
def test_the_list_keeps_its_query_count_as_the_teams_customers_grow(
    client, portfolio, owner, chain, django_assert_num_queries
):
    client.force_login(owner)
    client.get("/customers/")  # sessions, permissions and the like settle
    with CaptureQueriesContext(connection) as before:
        client.get("/customers/")
    link = make_link(chain)
    for i in range(10):
        _customer(f"K-MORE-{i}", actor=link.actor)
    run = AnalysisRun.objects.get()
    for customer in Customer.objects.filter(number__startswith="K-MORE-"):
        Assessment.objects.create(
            run=run, customer=customer, value_type="growth", current_value=1, future_value=2
        )
    with django_assert_num_queries(len(before.captured_queries)):
        body = client.get("/customers/").content.decode()
    assert "K-MORE-9" in body


@pytest.mark.django_db
def test_the_list_does_not_tell_a_sales_user_how_many_customers_all_teams_have(
    client, owner, manager, portfolio
):
    AnalysisRun.objects.update(customers=len(portfolio))
    client.force_login(owner)
    body = client.get("/customers/", headers={"Accept-Language": "en"}).content.decode()
    assert "Analysis as of May 2026" in body and f"{len(portfolio)} customers" not in body
    client.force_login(manager)
    body = client.get("/customers/", headers={"Accept-Language": "en"}).content.decode()
    assert f"Analysis as of May 2026, {len(portfolio)} customers" in body
