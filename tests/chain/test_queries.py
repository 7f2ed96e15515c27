"""Query counts of the chain page, of its regions and of an edit.

After every edit the page's regions reload themselves, each with a request of its own, so
each must stay cheap: a fixed number of queries however large the chain, and only what
the region shows (the review region does not read the members).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chain import actions
from chain.models import Contact, ReviewComment
from chain.views import REGIONS
from tests.factories import grow_chain

# Session, user, the user's permissions (2) and teams, the chain.
BASE = 6


def _queries(client, url: str, headers: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, headers=headers).status_code == 200
    return len(ctx.captured_queries)


def _region(client, chain, region: str) -> int:
    headers = {"HX-Request": "true", "HX-Target": region}
    return _queries(client, chain.get_absolute_url(), headers)


def _add_actions(chain, n: int) -> None:
    """`n` actions of each kind: about an actor, a contact, a comment, a question, and
    closed ones."""
    owner = chain.owner
    links = list(chain.links.all()[:n])
    contacts = list(Contact.objects.filter(link__chain=chain)[:n])
    for i in range(n):
        comment = ReviewComment.objects.create(chain=chain, text=f"Remark {i}")
        for about in (
            {"link": links[i % len(links)]},
            {"contact": contacts[i % len(contacts)]},
            {"comment": comment},
            {"question": "coach"},
            {"customer_number": f"K-{i}"},
        ):
            actions.action_create(chain=chain, user=owner, title="Go", owner=owner, **about)
        done = actions.action_create(chain=chain, user=owner, title="Went", owner=owner)
        actions.action_close(action=done, user=owner, status="done")


@pytest.mark.django_db
def test_the_page_takes_a_fixed_number_of_queries(client_owner, chain, django_assert_num_queries):
    grow_chain(chain, actors=2, contacts_each=1)
    _add_actions(chain, 1)
    # Stages, members, contacts, value types, influences, answers, the open comments'
    # count (the light), the members' open actions (the cards, the light and the Actions
    # tab's count) and their type changes. The closed tabs' regions load when they open.
    with django_assert_num_queries(BASE + 9):
        client_owner.get(chain.get_absolute_url())
    grow_chain(chain, actors=20, contacts_each=5)
    _add_actions(chain, 15)
    with django_assert_num_queries(BASE + 9):
        client_owner.get(chain.get_absolute_url())


@pytest.mark.django_db
@pytest.mark.parametrize("tab", ["board", "worksheet", "review", "actions"])
def test_the_page_opened_on_a_tab_takes_a_fixed_number_of_queries(client_owner, chain, tab):
    grow_chain(chain, actors=2, contacts_each=1)
    _add_actions(chain, 1)
    url = f"{chain.get_absolute_url()}?tab={tab}"
    small = _queries(client_owner, url)
    grow_chain(chain, actors=20, contacts_each=5)
    _add_actions(chain, 15)
    assert _queries(client_owner, url) == small


@pytest.mark.django_db
def test_the_actions_region_takes_a_fixed_number_of_queries(client_owner, chain):
    grow_chain(chain, actors=2, contacts_each=1)
    _add_actions(chain, 1)
    # The actions, with their owners and what they are about, in one query.
    assert _region(client_owner, chain, "actions") == BASE + 1
    grow_chain(chain, actors=20, contacts_each=2)
    _add_actions(chain, 20)
    assert _region(client_owner, chain, "actions") == BASE + 1


@pytest.mark.django_db
@pytest.mark.parametrize("region", sorted(REGIONS))
def test_a_region_takes_a_fixed_number_of_queries(client_owner, chain, region):
    grow_chain(chain, actors=2, contacts_each=1)
    small = _region(client_owner, chain, region)
    grow_chain(chain, actors=20, contacts_each=5)
    assert _region(client_owner, chain, region) == small


@pytest.mark.django_db
def test_a_region_reads_only_what_it_shows(client_owner, chain):
    grow_chain(chain, actors=3, contacts_each=2)
    page = _queries(client_owner, chain.get_absolute_url())
    # The comments only.
    assert _region(client_owner, chain, "review") == BASE + 1
    # Members, contacts, answers; for the light the influences, the open comments' count,
    # the actions and the type changes.
    assert _region(client_owner, chain, "summary") == BASE + 7
    # Members and influences.
    assert _region(client_owner, chain, "influence-list") == BASE + 2
    assert _region(client_owner, chain, "diagram") < page


@pytest.mark.django_db
def test_an_edit_takes_a_fixed_number_of_queries(client_owner, chain, htmx_headers):
    """The save answers with the board, re-read from the database."""
    counts = []
    for actors in (2, 20):
        grow_chain(chain, actors=actors, contacts_each=3)
        contact = Contact.objects.filter(link__chain=chain).first()
        url = f"/chains/contacts/{contact.pk}/edit/"
        data = {
            "name": contact.name,
            "role": contact.role,
            "attitude": contact.attitude,
            "level": contact.level,
            "relation_now": contact.relation_now,
            "notes": f"Called {actors}",
            "version": contact.version,
        }
        with CaptureQueriesContext(connection) as ctx:
            response = client_owner.post(url, data, headers=htmx_headers)
        assert "contacts-changed" in response.headers["HX-Trigger"]
        counts.append(len(ctx.captured_queries))
    contact.refresh_from_db()
    assert contact.notes == "Called 20"
    assert counts[0] == counts[1]
