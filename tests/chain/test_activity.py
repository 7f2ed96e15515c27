"""The activity feed: who changed what, and bringing back what was removed."""

import pytest
from django.test import Client

from chain.models import ChainLink, Contact, Influence
from tests.factories import (
    contact_form_data,
    make_contact,
    make_influence,
    make_link,
    make_success_factor,
)

HX = {"HX-Request": "true"}


@pytest.mark.django_db
def test_the_feed_shows_who_changed_what(client_owner, teammate, chain):
    contact = make_contact(make_link(chain), name="Anna Weber")
    bob = Client()
    bob.force_login(teammate)
    bob.post(
        f"/chains/contacts/{contact.pk}/edit/",
        contact_form_data(contact, level="regular"),
        headers=HX,
    )
    body = client_owner.get(f"/chains/{chain.pk}/activity/", headers=HX).content.decode()
    assert "<html" not in body
    assert "bob" in body and "Anna Weber" in body
    assert "no contact" in body and "regular direct contact" in body  # old → new


@pytest.mark.django_db
def test_edits_in_a_row_read_as_one_entry(client_owner, chain):
    contact = make_contact(make_link(chain), name="Anna Weber")
    url = f"/chains/contacts/{contact.pk}/edit/"
    client_owner.post(url, contact_form_data(contact, role="Buyer"), headers=HX)
    contact.refresh_from_db()
    client_owner.post(url, contact_form_data(contact, role="Head of buying"), headers=HX)
    body = client_owner.get(f"/chains/{chain.pk}/activity/", headers=HX).content.decode()
    assert body.count("<del>Purchasing</del>") == 1 and "Head of buying" in body
    assert "<del>Buyer</del>" not in body


@pytest.mark.django_db
def test_a_removed_actor_comes_back_with_its_contacts_and_influences(client_owner, chain):
    a = make_link(chain, importance=5)
    a.success_factors.add(make_success_factor("Price"))
    b = make_link(chain, chain.stages.last())
    make_contact(a, name="Anna Weber")
    make_contact(a, name="Ben Roth")
    make_influence(a, b)
    client_owner.post(f"/chains/links/{a.pk}/delete/", headers=HX)
    assert not ChainLink.objects.filter(pk=a.pk).exists()

    body = client_owner.get(f"/chains/{chain.pk}/activity/", headers=HX).content.decode()
    record = a.history.filter(history_type="-").get()
    restore_url = f"/chains/{chain.pk}/activity/link/{record.history_id}/restore/"
    assert restore_url in body

    response = client_owner.post(restore_url, headers=HX)
    assert response.status_code == 200 and "is back" in response.content.decode()
    link = ChainLink.objects.get(pk=a.pk)
    assert (link.importance, link.stage_id) == (5, a.stage_id)
    assert [f.name for f in link.success_factors.all()] == ["Price"]
    assert sorted(link.contacts.values_list("name", flat=True)) == ["Anna Weber", "Ben Roth"]
    assert Influence.objects.filter(source=link, target=b).exists()
    # Restoring twice changes nothing.
    client_owner.post(restore_url, headers=HX)
    assert link.contacts.count() == 2


@pytest.mark.django_db
def test_a_contact_removed_earlier_stays_removed_when_its_actor_comes_back(client_owner, chain):
    a = make_link(chain)
    early = make_contact(a, name="Old Contact")
    make_contact(a, name="Anna Weber")
    client_owner.post(f"/chains/contacts/{early.pk}/delete/", headers=HX)
    client_owner.post(f"/chains/links/{a.pk}/delete/", headers=HX)
    record = a.history.filter(history_type="-").get()
    client_owner.post(f"/chains/{chain.pk}/activity/link/{record.history_id}/restore/", headers=HX)
    assert list(Contact.objects.filter(link_id=a.pk).values_list("name", flat=True)) == [
        "Anna Weber"
    ]


@pytest.mark.django_db
def test_a_contact_of_a_removed_actor_cannot_come_back_alone(client_owner, chain):
    a = make_link(chain)
    contact = make_contact(a)
    client_owner.post(f"/chains/contacts/{contact.pk}/delete/", headers=HX)
    client_owner.post(f"/chains/links/{a.pk}/delete/", headers=HX)
    record = contact.history.filter(history_type="-").get()
    response = client_owner.post(
        f"/chains/{chain.pk}/activity/contact/{record.history_id}/restore/", headers=HX
    )
    assert "restore the actor first" in response.content.decode()
    assert not Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.django_db
def test_restore_checks_the_chain(client_owner, client, chain, outsider, team, owner):
    a = make_link(chain)
    client_owner.post(f"/chains/links/{a.pk}/delete/", headers=HX)
    record = a.history.filter(history_type="-").get()
    # Another chain of the same team cannot restore this chain's actor.
    from tests.factories import make_chain

    other = make_chain(team, owner, scope_name="Other")
    url = f"/chains/{other.pk}/activity/link/{record.history_id}/restore/"
    assert client_owner.post(url).status_code == 404
    client.force_login(outsider)
    url = f"/chains/{chain.pk}/activity/link/{record.history_id}/restore/"
    assert client.post(url).status_code == 404
    assert not ChainLink.objects.filter(pk=a.pk).exists()


@pytest.mark.django_db
def test_the_feed_query_count_does_not_grow(client_owner, chain, django_assert_max_num_queries):
    links = [make_link(chain) for _ in range(3)]
    make_contact(links[0])
    with django_assert_max_num_queries(22) as small:  # two of them actions and events
        client_owner.get(f"/chains/{chain.pk}/activity/", headers=HX)
    for _ in range(10):
        link = make_link(chain)
        make_contact(link)
        make_influence(links[0], link)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client_owner.get(f"/chains/{chain.pk}/activity/", headers=HX)
