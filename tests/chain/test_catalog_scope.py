"""One team's chain is not changed by another team: what belongs to a chain (competitive
position, count) lives on the chain's member; the organisation's catalog facts (kind, size
class) change only by an administrator, or by a sales user while no other team's chain uses
the actor. Catalog changes are versioned and recorded in history."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from chain import services
from chain.models import Actor, Chain, ChainLink
from chain.selectors import actor_catalog_editable_by
from tests.factories import make_actor, make_chain, make_kind, make_link, make_user

HX = {"HX-Request": "true"}
SHARED = "Also used in chains of other teams"


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form_data(link: ChainLink, **fields) -> dict:
    """What the member's form posts as loaded now, with `fields` changed."""
    actor = link.actor
    data = {
        "version": link.version,
        "actor_version": actor.version,
        "kind": actor.kind_id,
        "size": actor.size,
        "count": link.count,
        "competitive_position": link.competitive_position,
    }
    return {**data, **fields}


def _hidden(body: str, name: str) -> int:
    return int(re.search(rf'name="{name}" value="(\d+)"', body).group(1))


def _edit(client: Client, link: ChainLink, data: dict):
    return client.post(f"/chains/links/{link.pk}/edit/", data, headers=HX)


@pytest.fixture
def bauring(db) -> Actor:
    return make_actor("BauRing", kind=make_kind("Wholesale"), size="medium")


@pytest.fixture
def link_a(chain, bauring) -> ChainLink:
    """BauRing in team A's chain, as team A characterised it."""
    return make_link(chain, actor=bauring, competitive_position="leader", count=4)


@pytest.fixture
def link_b(other_team, outsider, bauring) -> ChainLink:
    """BauRing in team B's chain (the outsider's team: B cannot open A's chain)."""
    return make_link(make_chain(other_team, outsider, "Tile glue"), actor=bauring)


@pytest.mark.django_db
def test_team_b_characterising_the_actor_leaves_team_a_chain_unchanged(link_a, link_b, outsider):
    data = _form_data(link_b, competitive_position="niche", count="12", importance="3")
    response = _edit(_login(outsider), link_b, data)
    assert response.status_code == 200 and response["HX-Retarget"] == "#board"
    link_a.refresh_from_db()
    link_b.refresh_from_db()
    assert (link_b.competitive_position, link_b.count) == ("niche", 12)
    assert (link_a.competitive_position, link_a.count) == ("leader", 4)


@pytest.mark.django_db
def test_a_sales_user_sees_kind_and_size_read_only_while_another_team_uses_the_actor(
    link_a, link_b, outsider
):
    body = _login(outsider).get(f"/chains/links/{link_b.pk}/edit/", headers=HX).content.decode()
    assert SHARED in body and "ask an administrator" in body
    assert re.search(r'<select name="size"[^>]*disabled', body)
    assert re.search(r'<select name="kind"[^>]*disabled', body)


@pytest.mark.django_db
def test_posted_kind_and_size_are_ignored_while_another_team_uses_the_actor(
    link_a, link_b, outsider, bauring
):
    other_kind = make_kind("Manufacturer")
    data = _form_data(link_b, size="group", kind=other_kind.pk, importance="4")
    response = _edit(_login(outsider), link_b, data)
    assert response["HX-Retarget"] == "#board"
    bauring.refresh_from_db()
    link_b.refresh_from_db()
    assert (bauring.size, bauring.kind.name, bauring.version) == ("medium", "Wholesale", 1)
    assert link_b.importance == 4  # the member's own fields are saved


@pytest.mark.django_db
def test_the_service_refuses_a_sales_user_while_another_team_uses_the_actor(
    link_a, link_b, outsider, bauring
):
    assert not actor_catalog_editable_by(bauring, outsider)
    with pytest.raises(ValidationError, match=SHARED):
        services.actor_catalog_update(
            actor=bauring, user=outsider, version=bauring.version, changes={"size": "large"}
        )
    bauring.refresh_from_db()
    assert bauring.size == "medium"


@pytest.mark.django_db
def test_a_sales_user_may_change_them_while_only_their_teams_use_the_actor(
    link_a, owner, teammate, bauring
):
    # A second chain of the same team uses the actor too: no other team's chain.
    make_link(make_chain(link_a.chain.team, owner, "Grout"), actor=bauring)
    assert actor_catalog_editable_by(bauring, teammate)
    body = _login(teammate).get(f"/chains/links/{link_a.pk}/edit/", headers=HX).content.decode()
    assert SHARED not in body and not re.search(r'<select name="size"[^>]*disabled', body)
    response = _edit(_login(teammate), link_a, _form_data(link_a, size="large"))
    assert response["HX-Retarget"] == "#board"
    bauring.refresh_from_db()
    assert (bauring.size, bauring.version) == ("large", 2)


@pytest.mark.django_db
@pytest.mark.parametrize("admin_kind", ["administrator role", "superuser"])
def test_an_administrator_may_always_change_them(link_a, link_b, other_team, bauring, admin_kind):
    if admin_kind == "superuser":
        admin = make_user("root", is_superuser=True)
    else:
        admin = make_user("kim", other_team, roles=("sales", "administrator"))
    assert actor_catalog_editable_by(bauring, admin)
    other_kind = make_kind("Manufacturer")
    data = _form_data(link_b, size="large", kind=other_kind.pk)
    assert _edit(_login(admin), link_b, data)["HX-Retarget"] == "#board"
    bauring.refresh_from_db()
    assert (bauring.size, bauring.kind, bauring.version) == ("large", other_kind, 2)


@pytest.mark.django_db
def test_a_catalog_change_is_recorded_and_shows_in_the_feed_of_every_chain_using_the_actor(
    link_a, link_b, other_team, bauring, client_owner
):
    admin = make_user("kim", other_team, roles=("sales", "administrator"))
    _edit(_login(admin), link_b, _form_data(link_b, size="large"))
    last = bauring.history.first()
    assert (last.history_type, last.size, last.history_user) == ("~", "large", admin)
    # Team A's feed shows the change made from team B's chain.
    feed = client_owner.get(f"/chains/{link_a.chain_id}/activity/", headers=HX).content.decode()
    assert "Actor (catalog)" in feed and "BauRing" in feed
    assert "size class:</span> <del>medium (50-249)</del> → <ins>large (250+)</ins>" in feed


@pytest.mark.django_db
def test_a_stale_actor_form_is_refused_and_can_be_reapplied(link_a, owner, teammate, bauring):
    # Both open the form; Bob saves a new size class first.
    alice_form = _form_data(link_a)
    bob_form = _form_data(link_a)
    _edit(_login(teammate), link_a, {**bob_form, "size": "large"})
    bauring.refresh_from_db()
    assert (bauring.size, bauring.version) == ("large", 2)

    # Alice's form, loaded before, would set it back to "small" with her count.
    response = _edit(_login(owner), link_a, {**alice_form, "size": "small", "count": "9"})
    body = response.content.decode()
    assert response.status_code == 200 and "HX-Retarget" not in response
    assert "bob saved this at" in body
    assert re.search(r"Size class</th><td>large \(250\+\)</td><td>small \(10-49\)</td>", body)
    bauring.refresh_from_db()
    link_a.refresh_from_db()
    assert (bauring.size, bauring.version) == ("large", 2)
    assert link_a.count == 4  # nothing of hers was saved

    # The refused form carries the current versions: saving again applies her values.
    assert _hidden(body, "actor_version") == 2 and _hidden(body, "version") == link_a.version
    again = {**alice_form, "size": "small", "count": "9"}
    again.update(version=_hidden(body, "version"), actor_version=_hidden(body, "actor_version"))
    assert _edit(_login(owner), link_a, again)["HX-Retarget"] == "#board"
    bauring.refresh_from_db()
    link_a.refresh_from_db()
    assert (bauring.size, bauring.version, link_a.count) == ("small", 3, 9)


@pytest.mark.django_db
def test_a_stale_member_form_changes_no_catalog_fact_either(link_a, owner, teammate, bauring):
    stale = _form_data(link_a)
    _edit(_login(teammate), link_a, {**stale, "importance": "5"})
    response = _edit(_login(owner), link_a, {**stale, "importance": "2", "size": "group"})
    assert "saved this at" in response.content.decode()
    bauring.refresh_from_db()
    link_a.refresh_from_db()
    assert (bauring.size, bauring.version, link_a.importance) == ("medium", 1, 5)


@pytest.mark.django_db
def test_an_unchanged_catalog_fact_needs_no_current_actor_version(link_a, owner, bauring):
    # Somebody changed the actor's notes meanwhile; the member's own fields still save.
    Actor.objects.filter(pk=bauring.pk).update(notes="Merged with Baustoff Nord", version=2)
    response = _edit(_login(owner), link_a, _form_data(link_a, actor_version=1, count="6"))
    assert response["HX-Retarget"] == "#board"
    link_a.refresh_from_db()
    assert link_a.count == 6


def _admin_form(actor: Actor, **fields) -> dict:
    data = {
        "name": actor.name,
        "kind": actor.kind_id,
        "size": actor.size,
        "notes": actor.notes,
        "version": actor.version,
    }
    return {**data, **fields}


@pytest.mark.django_db
def test_the_admin_refuses_a_stale_actor_form_and_bumps_the_version(admin_client, bauring):
    url = f"/admin/chain/actor/{bauring.pk}/change/"
    assert 'name="version" value="1"' in admin_client.get(url).content.decode()
    loaded = _admin_form(bauring)

    saved = admin_client.post(url, {**loaded, "size": "large"})
    assert saved.status_code == 302
    bauring.refresh_from_db()
    assert (bauring.size, bauring.version) == ("large", 2)

    refused = admin_client.post(url, {**loaded, "size": "small"})
    body = refused.content.decode()
    assert refused.status_code == 200
    assert "Somebody else saved this while you were editing it" in body and "Size class" in body
    bauring.refresh_from_db()
    assert (bauring.size, bauring.version) == ("large", 2)


@pytest.mark.django_db
def test_the_admin_keeps_other_versioned_rows_too(admin_client, link_a):
    url = f"/admin/chain/chainlink/{link_a.pk}/change/"
    data = {
        "chain": link_a.chain_id,
        "actor": link_a.actor_id,
        "stage": link_a.stage_id,
        "position": 0,
        "count": 4,
        "competitive_position": "leader",
        "version": 1,
    }
    assert admin_client.post(url, {**data, "count": 5}).status_code == 302
    refused = admin_client.post(url, {**data, "count": 6})
    assert refused.status_code == 200 and "Somebody else saved this" in refused.content.decode()
    link_a.refresh_from_db()
    assert (link_a.count, link_a.version) == (5, 2)


def _approved(chain: Chain, owner, manager) -> Chain:
    services.chain_submit(chain=chain, user=owner)
    services.chain_approve(chain=chain, user=manager)
    chain.refresh_from_db()
    assert chain.status == Chain.Status.APPROVED and not chain.changed_since_approval
    return chain


@pytest.mark.django_db
def test_a_catalog_change_from_one_chain_marks_every_approved_chain_using_the_actor(
    link_a, owner, manager, bauring
):
    """The size class shows in every chain with the actor: the approved one changed too."""
    approved = _approved(make_chain(link_a.chain.team, owner, "Tile grout"), owner, manager)
    make_link(approved, actor=bauring)
    response = _edit(_login(owner), link_a, _form_data(link_a, size="large"))
    assert response.status_code == 200
    approved.refresh_from_db()
    assert approved.changed_since_approval


@pytest.mark.django_db
def test_an_admin_edit_marks_an_approved_chain_as_changed(admin_client, link_a, owner, manager):
    chain = _approved(link_a.chain, owner, manager)
    url = f"/admin/chain/chainlink/{link_a.pk}/change/"
    data = {
        "chain": link_a.chain_id,
        "actor": link_a.actor_id,
        "stage": link_a.stage_id,
        "position": 0,
        "count": 9,
        "competitive_position": "leader",
        "version": link_a.version,
    }
    assert admin_client.post(url, data).status_code == 302
    chain.refresh_from_db()
    assert chain.changed_since_approval
