"""The where-to-act region of a chain: its facts in a fixed number of queries, the page."""

import copy
import datetime
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chain.decorations import chain_decoration
from chain.models import Action, ChainEvent, Contact
from customers.models import AnalysisRun, Assessment, Customer
from customers.plan import chain_plan, where_to_act_facts
from tests.factories import make_actor, make_contact, make_influence, make_link


def _url(chain, query=""):
    return f"/customers/chain/{chain.pk}/plan/{query}"


def _customer_stage(chain):
    return chain.stages.get(role="customer")


def _valued_actor(chain, run, name, future, value_type="growth", *, stage=None, n=1):
    """A customer-tier member whose `n` linked customers bring `future` in all."""
    link = make_link(chain, stage or _customer_stage(chain), actor=make_actor(name), importance=3)
    for i in range(n):
        customer = Customer.objects.create(
            number=f"{name[:3].upper()}-{link.pk}-{i}", name=f"{name} {i}", actor=link.actor
        )
        Assessment.objects.create(
            run=run,
            customer=customer,
            value_type=value_type,
            current_value=future / n / 2,
            future_value=future / n,
            figures={"value_basis": "margin"},
        )
    return link


@pytest.fixture
def run(db):
    return AnalysisRun.objects.create(as_of=datetime.date(2026, 5, 1))


@pytest.mark.django_db
def test_it_ranks_a_valuable_white_spot_first_with_a_create_action_link(client_owner, chain, run):
    supplier = make_link(chain, chain.stages.get(role="supplier"), importance=3)
    critic = make_contact(
        supplier, "Otto Kritisch", buying_role="decision_maker", attitude="critic"
    )
    builder = _valued_actor(chain, run, "Builder AG", 1_000_000)
    response = client_owner.get(_url(chain))
    assert response.status_code == 200
    body = unescape(response.content.decode())
    assert body.index("Builder AG") < body.index("Otto Kritisch")
    assert "Nobody known at this customer-tier actor." in body
    assert "€1,000,000" in body
    new = f"/chains/{chain.pk}/actions/new/?source=where_to_act"
    assert f"{new}&title=Get+to+know+the+decision+makers+at+Builder+AG&link={builder.pk}" in body
    assert f"{new}&title=Win+over+Otto+Kritisch" in body
    assert f"contact={critic.pk}" in body


@pytest.mark.django_db
def test_htmx_gets_the_fragment_and_a_plain_request_the_page(client_owner, chain, htmx_headers):
    fragment = client_owner.get(_url(chain), headers=htmx_headers).content.decode()
    assert "<html" not in fragment
    assert 'class="where-to-act"' in fragment
    assert "<html" in client_owner.get(_url(chain)).content.decode()


@pytest.mark.django_db
def test_an_empty_chain_has_nothing_pressing_and_says_why(client_owner, chain):
    body = client_owner.get(_url(chain)).content.decode()
    assert "Nothing pressing" in body
    assert "no actors besides our company" in body
    make_contact(make_link(chain, _customer_stage(chain)), level=Contact.Level.REGULAR)
    body = unescape(client_owner.get(_url(chain)).content.decode())
    assert "Nothing pressing" in body
    assert "Every customer-tier actor has somebody with direct contact" in body


@pytest.mark.django_db
def test_it_speaks_german(client_owner, chain, run):
    _valued_actor(chain, run, "Builder AG", 1_000_000)
    body = unescape(client_owner.get(_url(chain), HTTP_ACCEPT_LANGUAGE="de").content.decode())
    assert "Handlungsbedarf" in body
    assert "Weißer Fleck" in body
    assert "Maßnahme anlegen" in body
    assert "1.000.000\xa0€" in body


@pytest.mark.django_db
def test_another_team_gets_404(client, chain, outsider):
    client.force_login(outsider)
    assert client.get(_url(chain)).status_code == 404


@pytest.mark.django_db
def test_a_manager_of_no_team_reads_it_without_creating_actions(client_manager, chain, run):
    _valued_actor(chain, run, "Builder AG", 1_000_000)
    body = client_manager.get(_url(chain)).content.decode()
    assert "Builder AG" in body
    assert "actions/new/" not in body


@pytest.mark.django_db
def test_it_shows_ten_entries_and_all_on_request(client_owner, chain):
    stage = _customer_stage(chain)
    for i in range(12):
        make_link(chain, stage, actor=make_actor(f"Gap {i:02}"))
    body = client_owner.get(_url(chain)).content.decode()
    assert body.count('class="plan-entry') == 10
    assert "Show all (2 more)" in body
    body = client_owner.get(_url(chain, "?all=1")).content.decode()
    assert body.count('class="plan-entry') == 12
    assert "Show all" not in body


@pytest.mark.django_db
def test_an_open_action_is_marked_and_put_lower(client_owner, chain):
    stage = _customer_stage(chain)
    first = make_link(chain, stage, actor=make_actor("Alpha"))
    make_link(chain, stage, actor=make_actor("Beta"))
    Action.objects.create(chain=chain, title="Call Alpha", link=first)
    body = client_owner.get(_url(chain)).content.decode()
    assert body.index("Beta") < body.index("Alpha")
    assert "action open" in body


@pytest.mark.django_db
def test_a_recent_type_change_suggests_an_action_about_the_customer(client_owner, chain, run):
    link = _valued_actor(chain, run, "Builder AG", 50_000, "bell")
    make_contact(link, level=Contact.Level.REGULAR)
    ChainEvent.objects.create(
        chain=chain,
        link=link,
        kind="type_change",
        data={
            "customer": f"BUI-{link.pk}-0",
            "name": "Builder AG 0",
            "from": "growth",
            "to": "bell",
        },
    )
    old = ChainEvent.objects.create(
        chain=chain,
        link=link,
        kind="type_change",
        data={"customer": "OLD-1", "name": "Old news", "from": "growth", "to": "bell"},
    )
    ChainEvent.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=91)
    )
    body = unescape(client_owner.get(_url(chain)).content.decode())
    assert "Builder AG 0 changed from growth customer to bell customer." in body
    assert "source=type_change" in body
    assert f"customer=BUI-{link.pk}-0" in body
    assert "Old news" not in body


@pytest.mark.django_db
def test_the_weights_of_the_settings_change_the_order(client_owner, chain, run, settings):
    supplier = make_link(chain, chain.stages.get(role="supplier"), importance=3)
    make_contact(supplier, "Otto Kritisch", buying_role="decision_maker", attitude="critic")
    _valued_actor(chain, run, "Builder AG", 1_000)
    body = client_owner.get(_url(chain)).content.decode()
    assert body.index("Builder AG") < body.index("Otto Kritisch")
    weights = copy.deepcopy(settings.WHERE_TO_ACT_WEIGHTS)
    weights["critic"] = 500.0
    settings.WHERE_TO_ACT_WEIGHTS = weights
    body = client_owner.get(_url(chain)).content.decode()
    assert body.index("Otto Kritisch") < body.index("Builder AG")


def _grow(chain, run, actors: int, contacts_each: int) -> None:
    """Members over the customer tiers with valued customers, contacts, influences,
    open actions and type-change events."""
    stages = list(chain.stages.exclude(role="own"))
    links = []
    for i in range(actors):
        link = _valued_actor(
            chain,
            run,
            f"Actor {chain.links.count()}",
            1000 * (i + 1),
            stage=stages[i % len(stages)],
            n=3,
        )
        links.append(link)
        for j in range(contacts_each):
            contact = make_contact(
                link,
                f"P{link.pk}-{j}",
                buying_role="decision_maker",
                attitude="critic" if j % 2 else "supporter",
                relation_goal="trusted_advisor",
                last_contact=datetime.date(2025, 1, 1),
            )
            Action.objects.create(chain=chain, title="Call", contact=contact)
        ChainEvent.objects.create(
            chain=chain,
            link=link,
            kind="type_change",
            data={"customer": f"X{link.pk}", "name": "X", "from": "growth", "to": "bell"},
        )
    for a, b in zip(links, links[1:], strict=False):
        make_influence(a, b, strength=3)


@pytest.mark.django_db
def test_the_facts_take_six_queries_whatever_the_chain_holds(chain, run):
    earlier = AnalysisRun.objects.create(as_of=datetime.date(2026, 4, 1))
    AnalysisRun.objects.filter(pk=earlier.pk).update(
        created_at=run.created_at - datetime.timedelta(days=30)
    )
    since = datetime.date(2026, 1, 1)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            facts = where_to_act_facts(chain, since=since)
        return len(ctx.captured_queries), facts

    _grow(chain, run, actors=2, contacts_each=1)
    small, facts = queries()
    assert len(facts.customers) == 6
    _grow(chain, run, actors=30, contacts_each=6)
    large, facts = queries()
    assert (small, large) == (6, 6)
    assert len(facts.members) == 32
    assert len(facts.customers) == 96
    assert chain_plan(chain).entries


@pytest.mark.django_db
def test_the_page_takes_a_fixed_number_of_queries(client_owner, chain, run):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client_owner.get(_url(chain)).status_code == 200
        return len(ctx.captured_queries)

    _grow(chain, run, actors=2, contacts_each=1)
    small = queries()
    _grow(chain, run, actors=25, contacts_each=5)
    assert queries() == small
    # Session, user, permissions (2), the chain, the teams, and the six of the facts.
    assert small <= 12


@pytest.mark.django_db
def test_the_chain_page_gets_the_url_of_the_region(chain):
    assert chain_decoration(chain).plan_url == _url(chain)
