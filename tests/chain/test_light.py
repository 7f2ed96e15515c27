"""The traffic light that knows the chain: roles, customer tiers, influences, comments,
overdue actions and type changes (docs/method.md, "Traffic light")."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chain.models import (
    CHAIN_QUESTIONS,
    Action,
    Chain,
    ChainEvent,
    Contact,
    ReviewComment,
    StageRole,
    WorksheetAnswer,
)
from chain.selectors import chain_board, chain_health
from tests.factories import make_actor, make_chain, make_contact, make_influence, make_link

TODAY = timezone.localdate()


def _stage(chain: Chain, role: str):
    return chain.stages.get(role=role)


def _member(chain: Chain, role: str, *, contact: bool = True, **fields):
    fields.setdefault("importance", 3)
    fields.setdefault("relationship", "direct_customer")
    fields.setdefault("problems_needs", "Needs a glue that sets fast")
    link = make_link(chain, _stage(chain, role), **fields)
    if contact:
        make_contact(link, name=f"Person {link.pk}", level=Contact.Level.REGULAR)
    return link


def _green_chain(team, owner) -> tuple[Chain, dict]:
    """Every core role with a known, directly contacted, characterised actor; every
    question answered; influences along the chain."""
    make_actor("Us Ltd", is_own_company=True)
    chain = make_chain(team, owner)
    own = chain.links.get()
    links = {
        role: _member(chain, role)
        for role in (StageRole.SUPPLIER, StageRole.CUSTOMER, StageRole.CUSTOMERS_CUSTOMER)
    }
    links[StageRole.OWN] = own
    make_influence(links[StageRole.SUPPLIER], own)
    make_influence(own, links[StageRole.CUSTOMER])
    make_influence(links[StageRole.CUSTOMER], links[StageRole.CUSTOMERS_CUSTOMER])
    for question in CHAIN_QUESTIONS:
        WorksheetAnswer.objects.create(chain=chain, question=question, text="Answered")
    return chain, links


def _health(chain: Chain):
    return chain_health([chain])[chain.pk]


@pytest.mark.django_db
def test_an_empty_chain_is_never_green(team, owner):
    chain = make_chain(team, owner)
    health = _health(chain)
    assert health.light == "red"
    assert {"incomplete", "missing_role"} <= health.codes
    assert any("no actors as" in reason for reason in health.light_reasons)
    assert health.completeness.percent == 0


@pytest.mark.django_db
def test_our_company_and_a_supplier_alone_are_never_green(team, owner):
    make_actor("Us Ltd", is_own_company=True)
    chain = make_chain(team, owner)
    supplier = _member(chain, StageRole.SUPPLIER)
    make_influence(supplier, chain.links.get(actor__is_own_company=True))
    for question in CHAIN_QUESTIONS:
        WorksheetAnswer.objects.create(chain=chain, question=question, text="Answered")
    health = _health(chain)
    assert health.light == "red"
    missing = next(i for i in health.issues if i.code == "missing_role")
    assert missing.severity == "red"
    assert missing.text == "no actors as customer, customer's customer"


@pytest.mark.django_db
def test_all_roles_known_people_and_no_overdue_action_is_green(team, owner):
    chain, _links = _green_chain(team, owner)
    health = _health(chain)
    assert health.light == "green", health.light_reasons
    assert health.completeness.percent == 100
    assert health.light_reasons == ["100 % complete"]
    # The chain page reads the same light.
    assert chain_board(chain).light == "green"


@pytest.mark.django_db
def test_an_overdue_action_turns_it_amber_then_red(team, owner):
    chain, links = _green_chain(team, owner)
    action = Action.objects.create(
        chain=chain, title="Call", link=links[StageRole.CUSTOMER], due=TODAY - timedelta(days=2)
    )
    Action.objects.create(chain=chain, title="Later", due=TODAY + timedelta(days=5))
    health = _health(chain)
    assert health.light == "amber"
    assert "1 overdue action" in health.light_reasons
    assert (health.open_actions, health.overdue_actions) == (2, 1)
    action.due = TODAY - timedelta(days=40)
    action.save()
    health = _health(chain)
    assert health.light == "red"
    assert "1 overdue action (one for more than 28 days)" in health.light_reasons
    # A closed action is no longer overdue.
    action.status, action.closed_at = Action.Status.DONE, timezone.now()
    action.save()
    assert _health(chain).light == "green"


@pytest.mark.django_db
def test_open_comments_and_missing_influences_are_amber(team, owner):
    chain, _links = _green_chain(team, owner)
    comment = ReviewComment.objects.create(chain=chain, text="Who decides at the retailer?")
    health = _health(chain)
    assert (health.light, health.codes) == ("amber", {"open_comments"})
    assert "1 open review comment" in health.light_reasons
    comment.resolved_at = timezone.now()
    comment.save()
    chain.influences.all().delete()
    health = _health(chain)
    assert "no_influences" in health.codes and "no influences recorded" in health.light_reasons
    assert health.light in ("amber", "red")


@pytest.mark.django_db
def test_a_customer_tier_without_known_people_is_red(team, owner):
    chain, _links = _green_chain(team, owner)
    _member(chain, StageRole.CUSTOMERS_CUSTOMER, contact=False, importance=2)
    health = _health(chain)
    # One of two actors known: enough for the tier's share, the new one is a white spot.
    assert "customers_unknown" not in health.codes
    Contact.objects.filter(link__stage__role=StageRole.CUSTOMERS_CUSTOMER).delete()
    health = _health(chain)
    assert health.light == "red"
    assert "customer's customer: nobody known" in health.light_reasons


@pytest.mark.django_db
def test_a_recent_unseen_type_change_is_a_reason_until_seen(team, owner):
    chain, links = _green_chain(team, owner)
    event = ChainEvent.objects.create(
        chain=chain,
        link=links[StageRole.CUSTOMER],
        kind=ChainEvent.Kind.TYPE_CHANGE,
        data={"customer": "K-1", "name": "Bau Meyer", "from": "growth", "to": "bell"},
    )
    health = _health(chain)
    assert (health.light, health.codes) == ("amber", {"type_changes"})
    event.seen_at = timezone.now()
    event.save()
    assert _health(chain).light == "green"


@pytest.mark.django_db
def test_reasons_are_in_german_too(team, owner):
    from django.utils import translation

    chain = make_chain(team, owner)
    with translation.override("de"):
        reasons = _health(chain).light_reasons
    assert "keine Akteure als Lieferant, unser Unternehmen, Kunde, Kunde des Kunden" in reasons


@pytest.mark.django_db
def test_our_company_is_never_a_white_spot(team, owner, client_owner):
    make_actor("Us Ltd", is_own_company=True)
    chain = make_chain(team, owner)
    own = chain.links.get()
    make_contact(own, name="", role="Sales director", level=Contact.Level.NONE)
    nobody = _member(chain, StageRole.CUSTOMER, contact=False)
    board = chain_board(chain)
    assert {spot.link.pk for spot in board.white_spots} == {nobody.pk}
    assert _health(chain).completeness.actors == 1
    body = client_owner.get(chain.get_absolute_url() + "?tab=board").content.decode()
    own_card = body.split(f'id="link-{own.pk}"')[1].split("</article>")[0]
    other_card = body.split(f'id="link-{nobody.pk}"')[1].split("</article>")[0]
    assert "create-action" not in own_card
    assert f"actions/new/?source=white_spot&amp;link={nobody.pk}" in other_card
    spots = body.split('id="white-spots"')[1].split("</section>")[0]
    assert "Us Ltd" not in spots


@pytest.mark.django_db
def test_the_chain_page_and_the_lists_count_alike(team, owner):
    """The page counts from what it loads, the lists in one query for many chains."""
    from chain.selectors import chain_counts

    chain, links = _green_chain(team, owner)
    Action.objects.create(chain=chain, title="Late", due=TODAY - timedelta(days=30))
    Action.objects.create(
        chain=chain, title="Also late", link=links[StageRole.CUSTOMER], due=TODAY - timedelta(1)
    )
    Action.objects.create(chain=chain, title="Someday", link=links[StageRole.SUPPLIER])
    ReviewComment.objects.create(chain=chain, text="Why?")
    data = {"customer": "K-1", "from": "growth", "to": "shrinking"}
    ChainEvent.objects.create(chain=chain, kind=ChainEvent.Kind.TYPE_CHANGE, data=data)
    ChainEvent.objects.create(
        chain=chain, link=links[StageRole.CUSTOMER], kind=ChainEvent.Kind.TYPE_CHANGE, data=data
    )
    board = chain_board(chain)
    assert board.counts == chain_counts([chain.pk], TODAY)[chain.pk]
    assert board.counts.oldest_due == TODAY - timedelta(days=30)
    assert (board.counts.open_actions, board.counts.overdue_actions) == (3, 2)
    assert board.health.issues == _health(chain).issues
    assert board.light == "red"  # one action overdue for more than 28 days
