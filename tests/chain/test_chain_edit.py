import pytest


def _data(**extra):
    # Version 1: the chain as the test's forms were loaded.
    return {
        "scope_kind": "service",
        "scope_name": "Glue consulting",
        "goal": "innovation",
        "version": 1,
        **extra,
    }


@pytest.mark.django_db
def test_it_returns_the_form_for_htmx(client_owner, chain, htmx_headers):
    body = client_owner.get(f"/chains/{chain.pk}/edit/", headers=htmx_headers).content.decode()
    assert "<html" not in body and 'id="chain-form"' in body


@pytest.mark.django_db
def test_it_saves_and_swaps_the_summary_into_the_form(client_owner, chain, team, htmx_headers):
    response = client_owner.post(
        f"/chains/{chain.pk}/edit/", _data(team=team.pk), headers=htmx_headers
    )
    assert response["HX-Retarget"] == "#chain-form"
    assert response.content.decode().strip().startswith('<section id="summary"')
    chain.refresh_from_db()
    assert (chain.scope_name, chain.scope_kind, chain.goal) == (
        "Glue consulting",
        "service",
        "innovation",
    )


@pytest.mark.django_db
def test_it_refuses_moving_the_chain_to_another_team(client_owner, chain, other_team):
    response = client_owner.post(f"/chains/{chain.pk}/edit/", _data(team=other_team.pk))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    chain.refresh_from_db()
    assert chain.team != other_team


@pytest.mark.django_db
def test_a_plain_post_redirects(client_owner, chain, team):
    response = client_owner.post(f"/chains/{chain.pk}/edit/", _data(team=team.pk))
    assert response.status_code == 302 and response.url == chain.get_absolute_url()
