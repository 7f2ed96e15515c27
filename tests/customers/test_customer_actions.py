"""A customer's page offers to create an action in each chain of its actor."""

import pytest

from customers.models import Customer
from tests.factories import make_chain, make_link


@pytest.mark.django_db
def test_one_button_per_chain_of_the_actor_the_user_may_change(
    client, chain, owner, team, other_team, outsider
):
    link = make_link(chain)
    second = make_chain(team, owner, "Tile adhesive")
    make_link(second, actor=link.actor)
    foreign = make_chain(other_team, outsider, "Their glue")
    make_link(foreign, actor=link.actor)
    customer = Customer.objects.create(number="K 77/1", name="Tiler", actor=link.actor)
    client.force_login(owner)
    content = client.get(f"/customers/{customer.pk}/").content.decode()
    for ours in (chain, second):
        assert f"/chains/{ours.pk}/actions/new/?source=customer&amp;customer=K%2077/1" in content
    assert f"/chains/{foreign.pk}/actions/new/" not in content
    form = client.get(f"/chains/{chain.pk}/actions/new/?source=customer&customer=K%2077/1")
    assert form.context["form"]["about"].value() == "customer:K 77/1"


@pytest.mark.django_db
def test_a_manager_gets_no_button(client_manager, chain):
    link = make_link(chain)
    customer = Customer.objects.create(number="K-9", name="Tiler", actor=link.actor)
    content = client_manager.get(f"/customers/{customer.pk}/").content.decode()
    assert "actions/new/" not in content
