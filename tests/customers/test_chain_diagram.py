"""A customer linked to a chain actor shows its value type on the actor's box and card."""

import pandas as pd
import pytest

from customers.models import Assessment, Customer
from customers.services import analysis_run_create, value_records_load
from tests.factories import make_link


def _history(customer: str, values: list[float]) -> pd.DataFrame:
    periods = pd.date_range("2024-01-01", periods=len(values), freq="MS")
    return pd.DataFrame(
        {
            "customer_id": customer,
            "customer_name": "Fliesen Huber GmbH",
            "period": periods,
            "revenue": values,
            "margin": [v * 0.3 for v in values],
        }
    )


@pytest.mark.django_db
def test_the_box_shows_the_linked_customers_value_type(client_manager, chain):
    link = make_link(chain)
    value_records_load(history=_history("K-1", [100.0 * (1.08**i) for i in range(30)]))
    Customer.objects.filter(number="K-1").update(actor=link.actor)
    run = analysis_run_create()
    value_type = Assessment.objects.get(run=run).value_type
    response = client_manager.get(chain.get_absolute_url())
    svg = response.context["svg"]()
    assert f'data-type="{value_type}"' in svg
    # And the actor's card on the board.
    board = client_manager.get(chain.get_absolute_url() + "?tab=board").content.decode()
    assert f"type-{value_type}" in board


@pytest.mark.django_db
def test_the_chain_page_keeps_its_query_count_with_customers(client_manager, chain):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    link = make_link(chain)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client_manager.get(chain.get_absolute_url())
        return len(ctx)

    before = count()
    for i in range(5):
        value_records_load(history=_history(f"K-{i}", [50.0 + i] * 24))
    Customer.objects.update(actor=link.actor)
    analysis_run_create()
    assert count() == before
