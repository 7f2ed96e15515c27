import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chain.models import Contact
from chain.views import TABS
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


def _panel(body: str, name: str) -> str:
    """The opening tag of a tab panel."""
    start = body.index(f'id="panel-{name}"')
    return body[body.rindex("<", 0, start) : body.index(">", start)]


@pytest.mark.django_db
def test_it_opens_on_the_diagram_with_every_tab_in_the_page(client_owner, chain, htmx_headers):
    make_link(chain)
    body = client_owner.get(chain.get_absolute_url()).content.decode()
    assert body.count('role="tab"') == 7
    assert "{#" not in body and "#}" not in body  # a template comment spilt onto the page
    assert 'id="tab-diagram" data-tab="diagram" href="?tab=diagram"' in body
    assert "hidden" not in _panel(body, "diagram")
    for name in ("board", "customers", "worksheet", "review", "actions", "activity"):
        assert "hidden" in _panel(body, name)
    for region in ("diagram", "white-spots", "influences"):
        assert f'id="{region}"' in body
        assert "region-later" not in _opening(body, region)
    # The closed tabs' regions stand in as placeholders that load when their tab opens
    # (marked stale for static/js/app.js), with a link that opens the tab without it.
    for region, tab in [("board", "board"), ("worksheet", "worksheet"), ("review", "review")]:
        tag = _opening(body, region)
        assert "region-later" in tag and "data-stale" in tag
        assert f'href="?tab={tab}"' in body[body.index(tag) :].split("</section>")[0]
    assert "region-later" in _opening(body, "actions")
    # What the placeholder asks for is the region itself.
    response = client_owner.get(
        chain.get_absolute_url(), headers={**htmx_headers, "HX-Target": "board"}
    )
    assert _opening(response.content.decode(), "board") == '<section id="board" class="panel">'


def _opening(body: str, region: str) -> str:
    """The opening tag of the element with id `region`."""
    import re

    return re.search(rf'<\w+ id="{region}"[^>]*>', body).group(0)


@pytest.mark.django_db
def test_the_tab_parameter_opens_its_tab_without_javascript(client_owner, chain):
    make_link(chain)
    body = client_owner.get(chain.get_absolute_url() + "?tab=worksheet").content.decode()
    assert "hidden" not in _panel(body, "worksheet")
    assert "hidden" in _panel(body, "diagram")
    tab = body[body.index('id="tab-worksheet"') :]
    assert tab[: tab.index(">")].count('aria-selected="true"') == 1
    # An unknown tab is the default one.
    body = client_owner.get(chain.get_absolute_url() + "?tab=nonsense").content.decode()
    assert "hidden" not in _panel(body, "diagram")


@pytest.mark.django_db
def test_a_chain_without_actors_opens_on_the_board(client_owner, chain):
    body = client_owner.get(chain.get_absolute_url()).content.decode()
    assert "hidden" not in _panel(body, "board")
    assert "hidden" in _panel(body, "diagram")


def _region_listens(body: str, region: str) -> set[str]:
    import re

    tag = re.search(rf'<\w+ id="{region}"[^>]*>', body).group(0)
    trigger = re.search(r'hx-trigger="([^"]*)"', tag).group(1)
    return {part.strip().removesuffix(" from:body") for part in trigger.split(",")}


@pytest.mark.django_db
def test_each_region_reloads_only_on_the_changes_it_shows(client_owner, chain):
    make_link(chain)
    # Each region as the page renders it when its tab is open.
    url = chain.get_absolute_url()
    pages = {tab: client_owner.get(f"{url}?tab={tab}").content.decode() for tab in TABS}
    tab_of = {"review": "review", "actor-questions": "worksheet", "actions": "actions"}

    def listens(region: str) -> set[str]:
        return _region_listens(pages[tab_of.get(region, "diagram")], region)

    # Every region reloads when anything may have changed (a restore, the scope).
    regions = ["summary", "review", "diagram", "white-spots", "influence-list"]
    regions += ["actor-questions", "activity"]
    for region in regions:
        assert "chain-changed" in listens(region)
    # An influence shows in the diagram and counts for the light, not in the white spots.
    assert "influences-changed" in listens("diagram")
    assert "influences-changed" in listens("summary")
    assert "influences-changed" not in listens("white-spots")
    # A stage's role and the actions count for the light too.
    assert {"stages-changed", "actions-changed"} <= listens("summary")
    # A contact changes the coverage: figures, colours, white spots; not the influences.
    for region in ("summary", "diagram", "white-spots", "actor-questions"):
        assert "contacts-changed" in listens(region)
    assert "contacts-changed" not in listens("influence-list")
    # A moved actor changes no figure.
    assert "order-changed" in listens("diagram")
    assert "order-changed" not in listens("summary")
    # An answer changes the figures only.
    assert "answers-changed" in listens("summary")
    assert "answers-changed" not in listens("diagram")


@pytest.mark.django_db
def test_each_write_tells_what_it_changed(client_owner, chain, htmx_headers):
    from tests.factories import make_influence

    a, b = make_link(chain), make_link(chain)
    stage = chain.stages.first()
    contact = make_contact(a)
    writes = {
        f"/chains/stages/{stage.pk}/move/": ({"direction": "right"}, "order-changed"),
        f"/chains/links/{a.pk}/move/": ({"direction": "down"}, "order-changed"),
        f"/chains/{chain.pk}/stages/add/": ({"name": "Planners"}, "stages-changed"),
        f"/chains/contacts/{contact.pk}/delete/": ({}, "contacts-changed"),
        f"/chains/{chain.pk}/influences/add/": (
            {"source": a.pk, "target": b.pk, "strength": 2, "description": "Specifies"},
            "influences-changed",
        ),
        f"/chains/{chain.pk}/submit/": ({}, "review-changed"),
    }
    for url, (data, event) in writes.items():
        response = client_owner.post(url, data, headers=htmx_headers)
        assert response.status_code == 200, url
        assert json.loads(response.headers["HX-Trigger"]) == {event: {}}, url
    influence = make_influence(b, a)
    response = client_owner.post(f"/chains/influences/{influence.pk}/delete/", headers=htmx_headers)
    assert json.loads(response.headers["HX-Trigger"]) == {"influences-changed": {}}
