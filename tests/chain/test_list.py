import pytest

from tests.factories import make_chain, make_link


@pytest.mark.django_db
def test_it_lists_only_my_teams_chains(client_owner, chain, other_team):
    make_chain(other_team, scope_name="Secret sealant")
    body = client_owner.get("/chains/").content.decode()
    assert chain.scope_name in body
    assert "Secret sealant" not in body


@pytest.mark.django_db
def test_it_searches_and_filters(client_owner, team, owner, htmx_headers):
    make_chain(team, owner, scope_name="Tile adhesive")
    make_chain(team, owner, scope_name="Floor primer")
    response = client_owner.get("/chains/?q=tile&status=draft", headers=htmx_headers)
    body = response.content.decode()
    assert "<html" not in body
    assert "Tile adhesive" in body and "Floor primer" not in body


@pytest.mark.django_db
def test_it_shows_an_empty_state(client_owner):
    assert "No chains yet." in client_owner.get("/chains/").content.decode()


@pytest.mark.django_db
def test_it_keeps_the_query_count_constant(client_owner, team, owner, django_assert_num_queries):
    for i in range(3):
        make_link(make_chain(team, owner, scope_name=f"Chain {i}"))
    # session, user, the user's permissions (own, groups), teams, page count,
    # chains with counts, then links, contacts, answers, the chains' counts for the light
    with django_assert_num_queries(11):
        client_owner.get("/chains/")
    for i in range(10):
        make_link(make_chain(team, owner, scope_name=f"More {i}"))
    with django_assert_num_queries(11):
        client_owner.get("/chains/")


@pytest.mark.django_db
def test_create_makes_a_chain_with_default_stages(client_owner, team):
    response = client_owner.post(
        "/chains/new/",
        {"team": team.pk, "scope_kind": "product", "scope_name": "Glue X", "goal": "growth"},
    )
    chain = team.chains.get(scope_name="Glue X")
    assert response.status_code == 302 and response.url == chain.get_absolute_url()
    assert chain.stages.count() == 4


@pytest.mark.django_db
def test_create_refuses_another_team(client_owner, other_team):
    response = client_owner.post(
        "/chains/new/",
        {"team": other_team.pk, "scope_kind": "product", "scope_name": "X", "goal": "growth"},
    )
    assert response.status_code == 200
    assert not other_team.chains.exists()
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.django_db
def test_delete_asks_then_deletes(client_owner, chain):
    assert "Delete the chain" in client_owner.get(f"/chains/{chain.pk}/delete/").content.decode()
    response = client_owner.post(f"/chains/{chain.pk}/delete/")
    assert response.status_code == 302
    assert not type(chain).objects.filter(pk=chain.pk).exists()
