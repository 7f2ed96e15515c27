import pytest

from chain.models import ActorKind, ChainLink
from tests.factories import make_link, make_success_factor


@pytest.mark.django_db
def test_add_creates_a_new_catalog_actor(client_owner, chain, htmx_headers):
    kind = ActorKind.objects.create(name="Retail")
    stage = chain.stages.last()
    response = client_owner.post(
        f"/chains/{chain.pk}/links/add/",
        {"stage": stage.pk, "new_name": "Tile Trade Ltd", "new_kind": kind.pk},
        headers=htmx_headers,
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#board"
    assert "links-changed" in response["HX-Trigger"]
    link = chain.links.get(actor__name="Tile Trade Ltd")
    assert link.stage == stage
    assert f'id="link-{link.pk}"' in response.content.decode()


@pytest.mark.django_db
def test_add_explains_a_missing_actor(client_owner, chain, htmx_headers):
    response = client_owner.post(
        f"/chains/{chain.pk}/links/add/", {"stage": chain.stages.first().pk}, headers=htmx_headers
    )
    assert response.status_code == 200
    assert "Pick an actor from the catalog or name a new one." in response.content.decode()
    assert not chain.links.exists()


@pytest.mark.django_db
def test_edit_returns_the_form_in_place(client_owner, chain, htmx_headers):
    link = make_link(chain)
    response = client_owner.get(f"/chains/links/{link.pk}/edit/", headers=htmx_headers)
    body = response.content.decode()
    assert "<html" not in body and f'id="link-{link.pk}"' in body and "<form" in body


@pytest.mark.django_db
def test_edit_without_htmx_is_a_full_page(client_owner, chain):
    link = make_link(chain)
    body = client_owner.get(f"/chains/links/{link.pk}/edit/").content.decode()
    assert "<html" in body and 'name="importance"' in body


@pytest.mark.django_db
def test_edit_characterises_the_member_and_its_actor(client_owner, chain, htmx_headers):
    link = make_link(chain)
    factor = make_success_factor("Delivery reliability")
    response = client_owner.post(
        f"/chains/links/{link.pk}/edit/",
        {
            "version": link.version,
            "importance": "5",
            "relationship": "direct_customer",
            "success_factors": [factor.pk],
            "problems_needs": "Needs fast curing",
            "kind": link.actor.kind_id,
            "size": "large",
            "actor_version": link.actor.version,
            "competitive_position": "leader",
            "count": "3",
        },
        headers=htmx_headers,
    )
    assert response.status_code == 200 and response["HX-Retarget"] == "#board"
    link.refresh_from_db()
    link.actor.refresh_from_db()
    assert (link.importance, link.relationship) == (5, "direct_customer")
    assert link.is_characterised
    assert link.actor.size == "large"
    assert (link.competitive_position, link.count) == ("leader", 3)


@pytest.mark.django_db
def test_edit_shows_errors_next_to_the_field(client_owner, chain, htmx_headers):
    link = make_link(chain)
    response = client_owner.post(
        f"/chains/links/{link.pk}/edit/",
        {"importance": "9", "kind": link.actor.kind_id, "count": "0"},
        headers=htmx_headers,
    )
    body = response.content.decode()
    assert response.status_code == 200 and "HX-Retarget" not in response
    assert "Select a valid choice" in body
    assert "greater than or equal to 1" in body
    link.refresh_from_db()
    assert link.importance is None


@pytest.mark.django_db
def test_reorder_persists_a_drop_into_another_stage(client_owner, chain, htmx_headers):
    supplier, maker = chain.stages.all()[:2]
    a, b, c = make_link(chain, supplier), make_link(chain, maker), make_link(chain, maker)
    response = client_owner.post(
        f"/chains/{chain.pk}/links/reorder/",
        {"stage": maker.pk, "link": [c.pk, a.pk, b.pk]},
        headers=htmx_headers,
    )
    assert response.status_code == 200
    order = list(maker.links.order_by("position").values_list("pk", flat=True))
    assert order == [c.pk, a.pk, b.pk]


@pytest.mark.django_db
def test_reorder_refuses_a_stage_of_another_chain(client_owner, chain, outsider):
    from tests.factories import make_chain

    foreign = make_chain(outsider.teams.first(), scope_name="Foreign")
    link = make_link(chain)
    client_owner.post(
        f"/chains/{chain.pk}/links/reorder/",
        {"stage": foreign.stages.first().pk, "link": [link.pk]},
    )
    link.refresh_from_db()
    assert link.stage.chain == chain


@pytest.mark.django_db
def test_move_buttons_are_the_keyboard_alternative(client_owner, chain):
    supplier, maker = chain.stages.all()[:2]
    link = make_link(chain, supplier)
    response = client_owner.post(f"/chains/links/{link.pk}/move/", {"direction": "right"})
    assert response.status_code == 302
    assert ChainLink.objects.get(pk=link.pk).stage == maker


@pytest.mark.django_db
def test_delete_removes_the_member_not_the_actor(client_owner, chain, htmx_headers):
    link = make_link(chain)
    response = client_owner.post(f"/chains/links/{link.pk}/delete/", headers=htmx_headers)
    assert response.status_code == 200
    assert not ChainLink.objects.filter(pk=link.pk).exists()
    assert type(link.actor).objects.filter(pk=link.actor_id).exists()


@pytest.mark.django_db
def test_delete_rejects_get(client_owner, chain):
    link = make_link(chain)
    assert client_owner.get(f"/chains/links/{link.pk}/delete/").status_code == 405
