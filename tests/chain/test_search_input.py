"""Search boxes and the snapshot label with control characters and page-long input: the
page answers (PostgreSQL refuses a NUL in a query) and still finds what was meant."""

import pytest

from tests.factories import make_chain

NUL = "Mounting\x00"


@pytest.mark.django_db
def test_the_chain_list_searches_past_a_nul(client_owner, chain):
    response = client_owner.get("/chains/", {"q": NUL})

    assert response.status_code == 200
    assert [c.pk for c in response.context["chains"]] == [chain.pk]
    assert response.context["q"] == "Mounting"


@pytest.mark.django_db
def test_the_chain_list_cuts_a_page_long_term(client_owner, chain):
    response = client_owner.get("/chains/", {"q": "glue " * 20_000})

    assert response.status_code == 200
    assert len(response.context["q"]) <= 100


@pytest.mark.django_db
def test_the_dashboard_searches_past_a_nul(client, manager, chain, other_team):
    make_chain(other_team, scope_name="Tile adhesive")
    client.force_login(manager)

    response = client.get("/chains/dashboard/", {"q": NUL})
    long = client.get("/chains/dashboard/", {"q": "\x00" + "x" * 100_000})

    assert response.status_code == 200 and long.status_code == 200
    assert response.context["filters"].q == "Mounting"
    body = response.content.decode()
    assert "Mounting glue" in body and "Tile adhesive" not in body


@pytest.mark.django_db
def test_a_snapshot_label_with_a_nul_is_taken_without_it(client, chain, manager):
    client.force_login(manager)

    response = client.post(f"/chains/{chain.pk}/snapshots/add/", {"label": "Review\x00 Q1"})

    assert response.status_code == 302
    assert chain.snapshots.get().label == "Review Q1"


@pytest.mark.django_db
def test_a_page_long_snapshot_label_is_refused_with_a_reason(client, chain, manager):
    client.force_login(manager)

    response = client.post(f"/chains/{chain.pk}/snapshots/add/", {"label": "x" * 100_000})

    assert response.status_code == 200
    assert "Ensure this value has at most" in response.content.decode()
    assert not chain.snapshots.exists()
