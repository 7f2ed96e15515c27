"""Two people edit the same thing at once: the second save of a stale form is refused."""

import re

import pytest
from django.test import Client

from tests.factories import contact_form_data, make_contact, make_link

HX = {"HX-Request": "true"}


def _version(body: str) -> int:
    return int(re.search(r'name="version" value="(\d+)"', body).group(1))


@pytest.fixture
def client_teammate(teammate):
    client = Client()
    client.force_login(teammate)
    return client


@pytest.mark.django_db
def test_the_second_save_of_a_contact_is_refused_and_can_be_reapplied(
    client_owner, client_teammate, chain
):
    contact = make_contact(make_link(chain), name="Anna Weber", role="Purchasing")
    url = f"/chains/contacts/{contact.pk}/edit/"
    # Both open the inline form.
    alice_version = _version(client_owner.get(url, headers=HX).content.decode())
    bob_version = _version(client_teammate.get(url, headers=HX).content.decode())
    assert alice_version == bob_version == 1

    saved = client_teammate.post(
        url, contact_form_data(contact, bob_version, role="Head of buying"), headers=HX
    )
    assert saved.status_code == 200 and 'id="board"' in saved.content.decode()

    refused = client_owner.post(
        url, contact_form_data(contact, alice_version, role="Category manager"), headers=HX
    )
    body = refused.content.decode()
    assert refused.status_code == 200 and "<html" not in body
    assert "bob saved this at" in body
    # The current value and the user's own value are both shown; the form keeps hers.
    assert "Head of buying" in body and "Category manager" in body
    assert 'value="Category manager"' in body
    contact.refresh_from_db()
    assert (contact.role, contact.version) == ("Head of buying", 2)

    # The refused form now carries the current version: saving again applies her value.
    assert _version(body) == 2
    reapplied = client_owner.post(
        url, contact_form_data(contact, _version(body), role="Category manager"), headers=HX
    )
    assert 'id="board"' in reapplied.content.decode()
    contact.refresh_from_db()
    assert (contact.role, contact.version) == ("Category manager", 3)


@pytest.mark.django_db
def test_a_stale_actor_form_is_refused(client_owner, client_teammate, chain):
    link = make_link(chain)
    url = f"/chains/links/{link.pk}/edit/"
    base = {"kind": link.actor.kind_id, "count": "1", "version": link.version}
    client_teammate.post(url, {**base, "importance": "5"}, headers=HX)
    body = client_owner.post(url, {**base, "importance": "2"}, headers=HX).content.decode()
    assert "saved this at" in body and "Importance" in body
    link.refresh_from_db()
    assert link.importance == 5


@pytest.mark.django_db
def test_a_stale_scope_form_is_refused_without_htmx_too(client_owner, client_teammate, chain, team):
    url = f"/chains/{chain.pk}/edit/"
    data = {"team": team.pk, "scope_kind": "product", "goal": "growth", "version": chain.version}
    assert client_teammate.post(url, {**data, "scope_name": "Tile glue"}).status_code == 302
    response = client_owner.post(url, {**data, "scope_name": "Mounting glue XL"})
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert "Tile glue" in response.content.decode()
    chain.refresh_from_db()
    assert chain.scope_name == "Tile glue"


@pytest.mark.django_db
def test_a_form_without_a_version_is_refused(client_owner, chain):
    contact = make_contact(make_link(chain))
    data = contact_form_data(contact, 1, role="Buyer")
    del data["version"]
    client_owner.post(f"/chains/contacts/{contact.pk}/edit/", data, headers=HX)
    contact.refresh_from_db()
    assert contact.role == "Purchasing"


@pytest.mark.django_db
def test_a_save_keeps_a_move_made_in_between(client_owner, chain):
    """Fields the form does not edit come from the current row, not from the form's load."""
    link = make_link(chain)
    other_stage = chain.stages.last()
    url = f"/chains/links/{link.pk}/edit/"
    version = _version(client_owner.get(url, headers=HX).content.decode())
    type(link).objects.filter(pk=link.pk).update(stage=other_stage)
    data = {"kind": link.actor.kind_id, "count": "1", "importance": "3", "version": version}
    client_owner.post(url, data, headers=HX)
    link.refresh_from_db()
    assert (link.stage, link.importance) == (other_stage, 3)
