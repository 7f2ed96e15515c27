"""The customer list's search box with a NUL and page-long input: the page answers
(PostgreSQL refuses a NUL in a query) and finds what was meant."""

import pytest

from customers.models import Customer


@pytest.mark.django_db
def test_the_customer_list_searches_past_a_nul(client_manager, analysed):
    customer = Customer.objects.order_by("number").first()

    response = client_manager.get("/customers/", {"q": f"{customer.number}\x00"})
    long = client_manager.get("/customers/", {"q": "\x00" * 100_000})

    assert response.status_code == 200 and long.status_code == 200
    assert [a.customer for a in response.context["page"].object_list][:1] == [customer]
