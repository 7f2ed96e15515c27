"""Stage roles, the people and actions on the board, the diagram's attitude colours."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from chain.diagram import ATTITUDE_COLORS, US_COLOR, decision_attitude, render_svg
from chain.forms import StageForm
from chain.models import Action, ChainEvent, Contact, Stage, StageRole
from chain.selectors import chain_board
from chain.templatetags.chain_cards import ago, relation_gap
from tests.factories import grow_chain, make_actor, make_contact, make_link

TODAY = timezone.localdate()


def _card(body: str, link) -> str:
    return body.split(f'id="link-{link.pk}"')[1].split("</article>")[0]


def _board(client, chain) -> str:
    return client.get(chain.get_absolute_url() + "?tab=board").content.decode()


# Stage roles -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_stage_is_offered_the_role_after_the_last(chain):
    assert StageForm(chain=chain)["role"].initial == StageRole.DOWNSTREAM
    # "Our company" is no choice: it moves with "Our stage".
    assert StageRole.OWN not in dict(StageForm(chain=chain).fields["role"].choices)


@pytest.mark.django_db
def test_the_first_stage_of_an_empty_chain_is_a_supplier(chain):
    chain.stages.all().delete()
    assert StageForm(chain=chain)["role"].initial == StageRole.SUPPLIER
    Stage.objects.create(chain=chain, name="Retail", role=StageRole.CUSTOMER)
    assert StageForm(chain=chain)["role"].initial == StageRole.CUSTOMERS_CUSTOMER


@pytest.mark.django_db
def test_a_stage_is_created_with_its_role(client_owner, chain, htmx_headers):
    url = f"/chains/{chain.pk}/stages/add/"
    client_owner.post(url, {"name": "Planners", "role": "influencer"}, headers=htmx_headers)
    assert chain.stages.last().role == StageRole.INFLUENCER
    # Without a role: the one after the last stage's.
    client_owner.post(url, {"name": "More planners"}, headers=htmx_headers)
    assert chain.stages.last().role == StageRole.INFLUENCER


@pytest.mark.django_db
def test_the_role_of_a_stage_changes_but_never_to_our_company(client_owner, chain, htmx_headers):
    stage = chain.stages.get(role=StageRole.CUSTOMERS_CUSTOMER)
    url = f"/chains/stages/{stage.pk}/rename/"
    data = {"name": "Craftsmen", "role": "downstream", "version": stage.version}
    client_owner.post(url, data, headers=htmx_headers)
    stage.refresh_from_db()
    assert (stage.name, stage.role) == ("Craftsmen", StageRole.DOWNSTREAM)
    data = {"name": "Craftsmen", "role": "own", "version": stage.version}
    response = client_owner.post(url, data, headers=htmx_headers)
    assert "Select a valid choice" in response.content.decode()
    stage.refresh_from_db()
    assert (stage.role, stage.is_own) == (StageRole.DOWNSTREAM, False)
    add = client_owner.post(
        f"/chains/{chain.pk}/stages/add/", {"name": "Us again", "role": "own"}, headers=htmx_headers
    )
    assert "Select a valid choice" in add.content.decode()
    assert chain.stages.filter(is_own=True).count() == 1


@pytest.mark.django_db
def test_our_stage_keeps_its_role_in_the_form(client_owner, chain, htmx_headers):
    own = chain.stages.get(is_own=True)
    data = {"name": "Glue maker", "role": "customer", "version": own.version}
    client_owner.post(f"/chains/stages/{own.pk}/rename/", data, headers=htmx_headers)
    own.refresh_from_db()
    assert (own.name, own.role, own.is_own) == ("Glue maker", StageRole.OWN, True)


@pytest.mark.django_db
def test_the_roles_show_under_the_stage_names(client_owner, chain):
    body = _board(client_owner, chain)
    assert 'data-role="customers_customer"' in body and "customer&#x27;s customer" in body
    svg = render_svg(chain_board(chain), interactive=False)
    assert 'class="d-small d-role" data-role="supplier">supplier</text>' in svg
    with translation.override("de"):
        svg = render_svg(chain_board(Stage.objects.first().chain), interactive=False)
    assert ">Kunde des Kunden</text>" in svg


# People on the board ------------------------------------------------------------------------


@pytest.mark.django_db
def test_contacts_show_symbols_with_words(client_owner, chain):
    link = make_link(chain)
    make_contact(
        link,
        name="Petra Kunz",
        buying_role=Contact.BuyingRole.DECISION_MAKER,
        attitude=Contact.Attitude.CRITIC,
        last_contact=TODAY - timedelta(days=22),
        relation_now=Contact.Relation.VENDOR,
        relation_goal=Contact.Relation.TRUSTED_ADVISOR,
    )
    make_contact(link, name="Otto Neu", attitude=Contact.Attitude.SUPPORTER)
    card = _card(_board(client_owner, chain), link)
    # Symbols with their words as tooltip and as text for screen readers.
    assert 'title="Buying role: decision maker"><span aria-hidden="true">★</span>' in card
    assert '<span class="visually-hidden">Buying role: decision maker</span>' in card
    assert '<span class="visually-hidden">Attitude: critic</span>' in card
    assert '<span class="visually-hidden">Attitude: supporter</span>' in card
    assert "3 weeks ago" in card and "never" in card
    assert "vendor → trusted advisor: 3 steps" in card
    translation.activate("de")
    client_owner.cookies["django_language"] = "de"
    card = _card(_board(client_owner, chain), link)
    assert "vor 3 Wochen" in card and ">nie</span>" in card
    assert "Rolle im Einkauf: " in card and "Haltung: " in card


def test_how_long_ago_and_the_relationship_gap():
    assert ago(None, TODAY) == "never"
    assert ago(TODAY, TODAY) == "today"
    assert ago(TODAY - timedelta(days=1), TODAY) == "1 day ago"
    assert ago(TODAY - timedelta(days=70), TODAY) == "2 months ago"
    assert ago(TODAY - timedelta(days=800), TODAY) == "2 years ago"
    with translation.override("de"):
        assert ago(TODAY - timedelta(days=7), TODAY) == "vor 7 Tagen"
        assert ago(TODAY - timedelta(days=400), TODAY) == "vor 13 Monaten"
    labels = {"relations": dict(Contact.Relation.choices), "reached": "target reached"}
    reached = Contact(relation_now="problem_solver", relation_goal="credible_source")
    assert relation_gap(reached, labels) == "problem solver ✓ target reached"
    assert relation_gap(Contact(relation_now="none", relation_goal=""), labels) == ""


@pytest.mark.django_db
def test_the_diagram_colours_by_the_decision_makers_attitude(chain):
    def member(*attitudes: str):
        link = make_link(chain, chain.stages.get(role=StageRole.CUSTOMER))
        for attitude in attitudes:
            make_contact(
                link, name=f"DM {attitude}", buying_role="decision_maker", attitude=attitude
            )
        return link

    critics, divided, friends, none = (
        member("critic", "neutral"),
        member("critic", "supporter"),
        member("supporter", "unknown"),
        member(),
    )
    make_contact(none, name="Not deciding", buying_role="user", attitude="critic")
    us = make_link(chain, chain.stages.get(is_own=True), make_actor("Us Ltd", is_own_company=True))
    board = chain_board(chain)
    found = {pk: decision_attitude(board.links[pk]) for pk in board.links}
    assert [found[x.pk] for x in (critics, divided, friends, none)] == [
        "critics",
        "mixed",
        "supporters",
        "none",
    ]
    svg = render_svg(board, scheme="attitude", only="critics", interactive=False)
    box = svg.split(f'id="box-{critics.pk}"')[1].split("</g>")[0]
    assert ATTITUDE_COLORS["critics"] in box
    assert 'opacity="0.18"' in svg.split(f'id="box-{friends.pk}"')[1][:80]
    assert US_COLOR in svg.split(f'id="box-{us.pk}"')[1].split("</g>")[0]
    assert "decision makers critical" in svg and "no decision maker known" in svg


# Actions and type changes on the cards ------------------------------------------------------


@pytest.mark.django_db
def test_cards_count_open_actions_with_constant_queries(client_owner, chain, htmx_headers):
    def actions(n: int) -> None:
        for link in chain.links.all()[:n]:
            for days in (-3, 4):
                Action.objects.create(
                    chain=chain, title="Call", link=link, due=TODAY + timedelta(days=days)
                )

    def board_queries() -> int:
        headers = {**htmx_headers, "HX-Target": "board"}
        with CaptureQueriesContext(connection) as ctx:
            client_owner.get(chain.get_absolute_url(), headers=headers)
        return len(ctx.captured_queries)

    grow_chain(chain, actors=2, contacts_each=1)
    actions(1)
    small = board_queries()
    grow_chain(chain, actors=20, contacts_each=3)
    actions(20)
    assert board_queries() == small
    link = make_link(chain)
    Action.objects.create(chain=chain, title="Call", link=link, due=TODAY - timedelta(days=1))
    Action.objects.create(chain=chain, title="Mail", link=link)
    card = _card(_board(client_owner, chain), link)
    assert "2 open actions, 1 overdue" in card


@pytest.mark.django_db
def test_a_recent_type_change_marks_the_card_and_the_box(client_owner, chain):
    link = make_link(chain, chain.stages.get(role=StageRole.CUSTOMER))
    old = make_link(chain, chain.stages.get(role=StageRole.CUSTOMER))
    data = {"customer": "K-7", "name": "Bau Meyer", "from": "growth", "to": "bell"}
    ChainEvent.objects.create(chain=chain, link=link, kind="type_change", data=data)
    stale = ChainEvent.objects.create(chain=chain, link=old, kind="type_change", data=data)
    ChainEvent.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=91))
    body = _board(client_owner, chain)
    text = "customer type changed: Bau Meyer growth customer → bell customer"
    assert text in _card(body, link)
    assert f"actions/new/?source=type_change&amp;link={link.pk}" in _card(body, link)
    assert "type-change" not in _card(body, old)
    svg = render_svg(chain_board(chain), interactive=False)
    assert svg.count('class="type-change-mark"') == 2  # the box and the legend
    assert text in svg


@pytest.mark.django_db
def test_a_type_change_is_answered_by_an_action_or_marked_seen(
    client_owner, chain, owner, client, outsider
):
    from chain import actions

    data = {"customer": "K-7", "name": "Bau Meyer", "from": "growth", "to": "bell"}
    answered, noted = (make_link(chain, chain.stages.get(role=StageRole.CUSTOMER)) for _ in "ab")
    for link in (answered, noted):
        ChainEvent.objects.create(chain=chain, link=link, kind="type_change", data=data)
    seen_url = f"/chains/links/{noted.pk}/events/seen/"
    assert seen_url in _card(_board(client_owner, chain), noted)

    # An action planned from the change answers it.
    actions.action_create(
        chain=chain, user=owner, owner=owner, title="Visit", source="type_change", link=answered
    )
    # "Seen" from another team: not theirs to see.
    client.force_login(outsider)
    assert client.post(seen_url).status_code == 404
    assert ChainEvent.objects.filter(link=noted, seen_at__isnull=True).exists()
    # "Seen" by the team: the mark goes.
    client.force_login(owner)
    assert client.post(seen_url).status_code == 302
    body = _board(client_owner, chain)
    assert "type-change" not in _card(body, answered)
    assert "type-change" not in _card(body, noted)
    assert not ChainEvent.objects.filter(seen_at__isnull=True).exists()
