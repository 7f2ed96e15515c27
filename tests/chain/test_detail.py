import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chain.models import Contact
from tests.factories import grow_chain, make_contact, make_link


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_it_shows_the_full_page(client_owner, chain):
    make_link(chain, importance=5)
    response = client_owner.get(chain.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body and 'id="diagram"' in body and "<svg" in body


@pytest.mark.django_db
def test_it_renders_one_region_for_htmx(client_owner, chain, htmx_headers):
    response = client_owner.get(
        chain.get_absolute_url(), headers={**htmx_headers, "HX-Target": "white-spots"}
    )
    body = response.content.decode()
    assert "<html" not in body
    assert body.strip().startswith('<section id="white-spots"')


@pytest.mark.django_db
def test_it_keeps_the_query_count_as_the_chain_grows(client_owner, chain):
    grow_chain(chain, actors=2, contacts_each=1)
    small = _queries(client_owner, chain.get_absolute_url())
    grow_chain(chain, actors=20, contacts_each=5)
    large = _queries(client_owner, chain.get_absolute_url())
    assert small == large


@pytest.mark.django_db
def test_it_lists_white_spots_most_important_first(client_owner, chain):
    minor = make_link(chain, importance=2)
    key = make_link(chain, importance=5)
    make_contact(key, name="", role="Head of purchasing")
    body = client_owner.get(chain.get_absolute_url()).content.decode()
    spots = body[body.index('id="white-spots"') :]
    assert spots.index(key.actor.name) < spots.index(minor.actor.name)
    assert "Head of purchasing: name unknown" in spots


@pytest.mark.django_db
def test_it_colours_and_filters_the_diagram(client_owner, chain):
    known = make_link(chain, importance=5)
    make_contact(known, level=Contact.Level.REGULAR)
    make_link(chain, importance=1)
    response = client_owner.get(chain.get_absolute_url() + "?color=coverage&only=regular")
    svg = response.context["svg"]()
    assert "#86efac" in svg  # regular contact colour
    assert svg.count('opacity="0.18"') == 1  # the other actor is faded


@pytest.mark.django_db
def test_an_outsider_gets_404(client, chain, outsider):
    client.force_login(outsider)
    assert client.get(chain.get_absolute_url()).status_code == 404
