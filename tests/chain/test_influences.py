import pytest

from tests.factories import make_influence, make_link


@pytest.mark.django_db
def test_add_an_influence(client_owner, chain, htmx_headers):
    a, b = make_link(chain), make_link(chain)
    response = client_owner.post(
        f"/chains/{chain.pk}/influences/add/",
        {"source": a.pk, "target": b.pk, "strength": 3, "description": "Sets the standard"},
        headers=htmx_headers,
    )
    assert response.status_code == 200 and response["HX-Retarget"] == "#influences"
    assert chain.influences.get().strength == 3
    assert "Sets the standard" in response.content.decode()


@pytest.mark.django_db
def test_it_refuses_self_influence_and_duplicates(client_owner, chain, htmx_headers):
    a, b = make_link(chain), make_link(chain)
    make_influence(a, b)
    url = f"/chains/{chain.pk}/influences/add/"
    body = client_owner.post(
        url,
        {"source": a.pk, "target": a.pk, "strength": 2, "description": "x"},
        headers=htmx_headers,
    ).content.decode()
    assert "An actor cannot influence itself." in body
    body = client_owner.post(
        url,
        {"source": a.pk, "target": b.pk, "strength": 2, "description": "x"},
        headers=htmx_headers,
    ).content.decode()
    assert "already recorded" in body
    assert chain.influences.count() == 1


@pytest.mark.django_db
def test_it_refuses_members_of_another_chain(client_owner, chain, outsider, htmx_headers):
    from tests.factories import make_chain

    foreign = make_link(make_chain(outsider.teams.first(), scope_name="Foreign"))
    a = make_link(chain)
    client_owner.post(
        f"/chains/{chain.pk}/influences/add/",
        {"source": a.pk, "target": foreign.pk, "strength": 2, "description": "x"},
        headers=htmx_headers,
    )
    assert not chain.influences.exists()


@pytest.mark.django_db
def test_delete(client_owner, chain, htmx_headers):
    influence = make_influence(make_link(chain), make_link(chain))
    client_owner.post(f"/chains/influences/{influence.pk}/delete/", headers=htmx_headers)
    assert not chain.influences.exists()
