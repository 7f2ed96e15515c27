"""GET /api/v1/chains and /api/v1/chains/{id}: the chains page's access rules, as JSON."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chain import actions
from chain.models import Chain, WorksheetAnswer
from tests.factories import api_auth, make_chain, make_contact, make_influence, make_link, make_team


@pytest.fixture
def busy_chain(chain):
    stages = list(chain.stages.all())
    a = make_link(chain, stages[0])
    b = make_link(chain, stages[1])
    make_contact(a, name="Anna Weber")
    make_influence(a, b, description="sets the standard")
    WorksheetAnswer.objects.create(chain=chain, question="goal", text="Grow with glue")
    actions.action_create(chain=chain, user=chain.owner, title="Call Anna", owner=chain.owner)
    return chain


@pytest.mark.django_db
def test_it_lists_the_teams_chains_only(client, chain, owner, other_team):
    make_chain(other_team, scope_name="Other team's")
    response = client.get("/api/v1/chains", headers=api_auth(owner))
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1
    item = data["items"][0]
    assert item["id"] == chain.pk
    assert item["scope_name"] == "Mounting glue"
    assert item["team"] == {"id": chain.team_id, "name": "Sales adhesives"}


@pytest.mark.django_db
def test_a_manager_lists_every_chain(client, chain, manager, other_team):
    other = make_chain(other_team, scope_name="Other team's")
    response = client.get("/api/v1/chains", headers=api_auth(manager))
    assert [c["id"] for c in response.json()["items"]] == [chain.pk, other.pk]


@pytest.mark.django_db
def test_it_pages_in_id_order(client, team, owner):
    chains = [make_chain(team, owner, scope_name=f"Glue {n}") for n in range(5)]
    headers = api_auth(owner)
    first = client.get("/api/v1/chains?page_size=2", headers=headers).json()
    third = client.get("/api/v1/chains?page_size=2&page=3", headers=headers).json()
    assert first["count"] == 5
    assert [c["id"] for c in first["items"]] == [chains[0].pk, chains[1].pk]
    assert [c["id"] for c in third["items"]] == [chains[4].pk]


@pytest.mark.django_db
def test_it_filters_by_team_status_scope_kind_and_change(client, team, manager, other_team):
    ours = make_chain(team, scope_name="Glue")
    theirs = make_chain(other_team, scope_name="Screws")
    Chain.objects.filter(pk=theirs.pk).update(
        status=Chain.Status.APPROVED, scope_kind=Chain.ScopeKind.SERVICE
    )
    headers = api_auth(manager)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/chains?{query}", headers=headers)
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["items"]]

    assert ids(f"team={team.pk}") == [ours.pk]
    assert ids("status=approved") == [theirs.pk]
    assert ids("scope_kind=service") == [theirs.pk]
    ours.refresh_from_db()
    since = ours.updated_at.isoformat().replace("+", "%2B")
    Chain.objects.filter(pk=theirs.pk).update(updated_at=ours.updated_at.replace(year=2020))
    assert ids(f"updated_since={since}") == [ours.pk]
    assert client.get("/api/v1/chains?status=lost", headers=headers).status_code == 422


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_for_more_chains(client, team, owner):
    headers = api_auth(owner)
    make_chain(team, owner, scope_name="Glue 0")
    client.get("/api/v1/chains", headers=headers)  # the token's first use writes once
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/chains", headers=headers).status_code == 200
    for n in range(1, 8):
        make_chain(make_team(f"Team {n}") if n % 2 else team, owner, scope_name=f"Glue {n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/chains", headers=headers)
    assert response.json()["count"] == 4
    assert len(many) == len(few)


@pytest.mark.django_db
def test_the_detail_has_stages_members_contacts_influences_answers_and_actions(
    client, busy_chain, owner
):
    response = client.get(f"/api/v1/chains/{busy_chain.pk}", headers=api_auth(owner))
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == busy_chain.pk
    assert [s["id"] for s in data["stages"]] == list(busy_chain.stages.values_list("pk", flat=True))
    assert len(data["links"]) == 2
    first = data["links"][0]
    assert first["actor"]["name"]
    assert [c["name"] for c in first["contacts"]] == ["Anna Weber"]
    assert data["influences"][0]["description"] == "sets the standard"
    assert data["influences"][0]["source_id"] == first["id"]
    assert data["answers"][0]["text"] == "Grow with glue"
    assert data["actions"][0]["title"] == "Call Anna"


@pytest.mark.django_db
def test_the_detail_costs_the_same_queries_for_a_bigger_chain(client, busy_chain, owner):
    headers = api_auth(owner)
    url = f"/api/v1/chains/{busy_chain.pk}"
    client.get(url, headers=headers)
    with CaptureQueriesContext(connection) as small:
        client.get(url, headers=headers)
    stages = list(busy_chain.stages.all())
    for n in range(6):
        link = make_link(busy_chain, stages[n % len(stages)])
        make_contact(link, name=f"Person {n}")
        make_influence(link, busy_chain.links.first())
    with CaptureQueriesContext(connection) as big:
        response = client.get(url, headers=headers)
    assert len(response.json()["links"]) == 8
    assert len(big) == len(small)


@pytest.mark.django_db
def test_another_teams_chain_is_404(client, chain, outsider):
    response = client.get(f"/api/v1/chains/{chain.pk}", headers=api_auth(outsider))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.django_db
def test_a_chain_that_does_not_exist_is_404(client, owner):
    assert client.get("/api/v1/chains/999999", headers=api_auth(owner)).status_code == 404
