import pytest

from chain.models import Contact
from tests.factories import make_contact, make_link


@pytest.mark.django_db
def test_add_a_contact(client_owner, chain, owner, htmx_headers):
    link = make_link(chain)
    response = client_owner.post(
        f"/chains/links/{link.pk}/contacts/add/",
        {
            "name": "Jana Roth",
            "role": "Head of purchasing",
            "level": "regular",
            "attitude": "supporter",
            "relation_now": "vendor",
            "relation_goal": "trusted_advisor",
            "owner": owner.pk,
            "last_contact": "2026-11-02",
        },
        headers=htmx_headers,
    )
    assert response.status_code == 200 and response["HX-Retarget"] == "#board"
    contact = link.contacts.get()
    assert (contact.name, contact.level, contact.owner) == ("Jana Roth", "regular", owner)
    assert "Jana Roth" in response.content.decode()


@pytest.mark.django_db
def test_a_placeholder_needs_a_role_and_no_direct_contact(client_owner, chain, htmx_headers):
    link = make_link(chain)
    url = f"/chains/links/{link.pk}/contacts/add/"
    base = {"attitude": "unknown", "relation_now": "none"}
    body = client_owner.post(url, {**base, "level": "none"}, headers=htmx_headers).content.decode()
    assert "Give a name, or at least the role for a placeholder." in body
    body = client_owner.post(
        url, {**base, "role": "Buyer", "level": "regular"}, headers=htmx_headers
    ).content.decode()
    assert "Direct contact needs a name" in body
    assert not link.contacts.exists()
    client_owner.post(url, {**base, "role": "Buyer", "level": "none"}, headers=htmx_headers)
    assert link.contacts.get().is_placeholder


@pytest.mark.django_db
def test_owner_must_be_in_the_chains_team(client_owner, chain, outsider, htmx_headers):
    link = make_link(chain)
    response = client_owner.post(
        f"/chains/links/{link.pk}/contacts/add/",
        {
            "name": "X",
            "level": "none",
            "attitude": "unknown",
            "relation_now": "none",
            "owner": outsider.pk,
        },
        headers=htmx_headers,
    )
    assert "Select a valid choice" in response.content.decode()
    assert not link.contacts.exists()


@pytest.mark.django_db
def test_edit_and_delete(client_owner, chain, htmx_headers):
    contact = make_contact(make_link(chain))
    data = {
        "name": "Anna Weber-Lutz",
        "level": "occasional",
        "attitude": "neutral",
        "relation_now": "none",
        "version": contact.version,
    }
    client_owner.post(f"/chains/contacts/{contact.pk}/edit/", data, headers=htmx_headers)
    contact.refresh_from_db()
    assert (contact.name, contact.level) == ("Anna Weber-Lutz", "occasional")
    client_owner.post(f"/chains/contacts/{contact.pk}/delete/", headers=htmx_headers)
    assert not Contact.objects.filter(pk=contact.pk).exists()
