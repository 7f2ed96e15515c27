"""The where-to-act ranking on constructed chains where the right order is obvious."""

import copy
import random
from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from customers.where_to_act import (
    ChainFacts,
    CustomerFact,
    InfluenceFact,
    Member,
    OpenAction,
    Person,
    TypeChange,
    Weights,
    rank,
    type_change_counts,
)

TODAY = date(2027, 3, 1)
CUSTOMER, SUPPLIER, USER = "customer", "supplier", "customers_customer"


def _weights(**changes) -> Weights:
    mapping = copy.deepcopy(settings.WHERE_TO_ACT_WEIGHTS)
    mapping.update(changes)
    return Weights.from_mapping(mapping)


def _rank(facts: ChainFacts, weights: Weights | None = None, recent_days: int = 90):
    return rank(facts, weights=weights or _weights(), today=TODAY, recent_days=recent_days)


def _customer(number, actor_id, value_type="steady", future=1000.0, current=None, **fields):
    current = future if current is None else current
    return CustomerFact(
        number=number,
        name=f"Firma {number}",
        actor_id=actor_id,
        value_type=value_type,
        current=current,
        future=future,
        basis=fields.pop("basis", "margin"),
        **fields,
    )


def _known(pk, **fields) -> Person:
    fields.setdefault("level", "regular")
    fields.setdefault("last_contact", TODAY - timedelta(days=10))
    return Person(pk=pk, name=f"Person {pk}", **fields)


def _kinds(entries):
    return [(e.kind, e.about) for e in entries]


def test_a_valuable_customer_without_anybody_known_ranks_above_a_supplier_with_a_critic():
    facts = ChainFacts(
        goal="growth",
        members=(
            Member(
                1,
                11,
                "Steel Inc",
                SUPPLIER,
                3,
                people=(_known(5, buying_role="decision_maker", attitude="critic"),),
            ),
            Member(2, 12, "Builder AG", CUSTOMER, 3),
        ),
        customers=(_customer("K1", 12, "growth", future=1_000_000),),
    )
    entries = _rank(facts)
    assert _kinds(entries) == [("white_spot", "Builder AG"), ("critic", "Person 5")]
    white_spot = entries[0]
    # The reasons say why, with the figures behind them.
    assert "Nobody known at this customer-tier actor." in white_spot.reasons
    assert any("1,000,000" in reason and "100" in reason for reason in white_spot.reasons)
    assert white_spot.action_params == {
        "source": "where_to_act",
        "title": "Get to know the decision makers at Builder AG",
        "link": "2",
    }
    assert white_spot.formula.endswith(f"= {white_spot.score:,.1f}")


def test_a_supplier_is_no_white_spot_and_nor_is_our_company():
    facts = ChainFacts(
        goal="growth",
        members=(Member(1, 11, "Steel Inc", SUPPLIER), Member(2, 12, "We", "own", is_own=True)),
    )
    assert _rank(facts) == []


def test_a_known_person_without_direct_contact_is_half_a_white_spot():
    nobody = Member(1, 11, "A", CUSTOMER, 3)
    known = Member(2, 12, "B", CUSTOMER, 3, people=(Person(7, "Eva", level="indirect"),))
    entries = _rank(ChainFacts(goal="growth", members=(known, nobody)))
    assert [e.about for e in entries] == ["A", "B"]
    assert entries[1].score == pytest.approx(entries[0].score / 2)


def _burr_and_growth(goal: str) -> list:
    facts = ChainFacts(
        goal=goal,
        members=(
            Member(1, 11, "Growing GmbH", CUSTOMER, 3),
            Member(2, 12, "Burrs KG", CUSTOMER, 3),
        ),
        customers=(
            _customer("G1", 11, "growth", future=200_000, current=120_000),
            *(_customer(f"B{i}", 12, "burr", future=50, current=50) for i in range(4)),
        ),
    )
    return [e.about for e in _rank(facts)]


def test_with_the_goal_profitability_a_burr_heavy_actor_rises():
    assert _burr_and_growth("growth") == ["Growing GmbH", "Burrs KG"]
    assert _burr_and_growth("profitability") == ["Burrs KG", "Growing GmbH"]


def test_a_contact_not_contacted_for_400_days_ranks_above_one_contacted_last_week():
    stale = _known(
        1,
        last_contact=TODAY - timedelta(days=400),
        relation_now="vendor",
        relation_goal="problem_solver",
    )
    recent = _known(
        2,
        last_contact=TODAY - timedelta(days=6),
        relation_now="vendor",
        relation_goal="problem_solver",
    )
    facts = ChainFacts(
        goal="growth", members=(Member(1, 11, "Retail", CUSTOMER, 3, people=(recent, stale)),)
    )
    entries = _rank(facts)
    assert [e.about for e in entries] == ["Person 1", "Person 2"]
    assert any("400 days ago" in reason for reason in entries[0].reasons)
    assert not any("days ago" in reason for reason in entries[1].reasons)
    assert entries[0].action_params["contact"] == "1"
    assert entries[0].action_title == "Get in touch with Person 1 (Retail) again"


def test_a_contact_at_its_aim_and_seen_lately_is_no_entry():
    person = _known(1, relation_now="trusted_advisor", relation_goal="problem_solver")
    facts = ChainFacts(
        goal="growth", members=(Member(1, 11, "Retail", CUSTOMER, 3, people=(person,)),)
    )
    assert _rank(facts) == []


def test_a_strong_downstream_influence_on_a_valuable_customer_without_contact():
    facts = ChainFacts(
        goal="innovation",
        members=(
            Member(1, 11, "Dealer", CUSTOMER, 4),
            Member(2, 12, "Architects", "influencer", 2, people=(_known(3),)),
            Member(3, 13, "Planner", "influencer", 2),
        ),
        influences=(InfluenceFact(2, 1, 3), InfluenceFact(3, 1, 2)),
        customers=(_customer("K1", 11, "growth", future=500_000),),
    )
    entries = _rank(facts)
    influence = [e for e in entries if e.kind == "influence"]
    # Only the strong influence counts; the weak one is no way in.
    assert [e.about for e in influence] == ["Architects"]
    assert influence[0].action_params["link"] == "2"
    assert "Architects strongly influences Dealer" in influence[0].reasons[0]


def test_no_influence_entry_where_we_have_direct_contact_at_the_customer():
    facts = ChainFacts(
        goal="innovation",
        members=(
            Member(1, 11, "Dealer", CUSTOMER, 4, people=(_known(1),)),
            Member(2, 12, "Architects", "influencer", 2),
        ),
        influences=(InfluenceFact(2, 1, 3),),
        customers=(_customer("K1", 11, "growth", future=500_000),),
    )
    assert [e.kind for e in _rank(facts)] == []


def test_the_innovation_goal_puts_downstream_actors_and_relationships_first():
    members = (
        Member(1, 11, "Dealer", CUSTOMER, 3),
        Member(2, 12, "End users", "downstream", 3),
    )
    assert [e.about for e in _rank(ChainFacts(goal="growth", members=members))] == [
        "Dealer",
        "End users",
    ]
    assert [e.about for e in _rank(ChainFacts(goal="innovation", members=members))] == [
        "End users",
        "Dealer",
    ]


def test_the_same_facts_give_the_same_list_and_ties_follow_the_chain_order():
    members = tuple(Member(i, 100 + i, f"Actor {i}", CUSTOMER, 3) for i in range(1, 8))
    facts = ChainFacts(goal="growth", members=members)
    first = _rank(facts)
    assert [e.about for e in first] == [f"Actor {i}" for i in range(1, 8)]
    for _ in range(5):
        assert _rank(facts) == first
    # The customers' order in the facts does not matter either.
    customers = [_customer(f"K{i}", 100 + i, future=1000 * i) for i in range(1, 8)]
    shuffled = customers[:]
    random.Random(3).shuffle(shuffled)
    a = _rank(replace(facts, customers=tuple(customers)))
    b = _rank(replace(facts, customers=tuple(shuffled)))
    assert [(e.about, e.score) for e in a] == [(e.about, e.score) for e in b]


def test_the_weights_of_the_settings_change_the_order():
    facts = ChainFacts(
        goal="growth",
        members=(
            Member(
                1,
                11,
                "Steel Inc",
                SUPPLIER,
                3,
                people=(_known(5, buying_role="decision_maker", attitude="critic"),),
            ),
            Member(2, 12, "Builder AG", CUSTOMER, 3),
        ),
    )
    assert [e.kind for e in _rank(facts)] == ["white_spot", "critic"]
    assert [e.kind for e in _rank(facts, _weights(critic=200.0))] == ["critic", "white_spot"]


def test_weights_with_a_missing_or_unknown_key_are_refused():
    mapping = copy.deepcopy(settings.WHERE_TO_ACT_WEIGHTS)
    del mapping["critic"]
    mapping["critics"] = 1
    with pytest.raises(ImproperlyConfigured, match="critic"):
        Weights.from_mapping(mapping)
    mapping = copy.deepcopy(settings.WHERE_TO_ACT_WEIGHTS)
    mapping["goals"]["growth"]["speed"] = 1
    with pytest.raises(ImproperlyConfigured, match="speed"):
        Weights.from_mapping(mapping)


def test_an_open_action_about_the_target_puts_it_lower_and_marks_it():
    members = (Member(1, 11, "A", CUSTOMER, 3), Member(2, 12, "B", CUSTOMER, 3))
    entries = _rank(ChainFacts(goal="growth", members=members, actions=(OpenAction(link=1),)))
    assert [(e.about, e.action_open) for e in entries] == [("B", False), ("A", True)]
    assert entries[1].score == pytest.approx(entries[0].score * 0.25)


def test_a_recent_type_change_is_an_entry_with_its_suggested_action():
    member = Member(1, 11, "Builder AG", CUSTOMER, 3, people=(_known(1),))
    change = TypeChange(1, "K7", "Firma K7", "growth", "bell", "", TODAY - timedelta(days=3))
    facts = ChainFacts(
        goal="growth",
        members=(member,),
        customers=(
            _customer("K7", 11, "bell", future=20_000, current=60_000, previous_type="growth"),
        ),
        changes=(change,),
    )
    (entry,) = _rank(facts)
    assert entry.kind == "type_change"
    assert entry.about == "Firma K7"
    assert entry.reasons[0] == "Firma K7 changed from growth customer to bell customer."
    assert entry.action_params == {
        "source": "type_change",
        "title": "Find out why Firma K7 is now a bell customer",
        "customer": "K7",
    }


def test_a_type_change_older_than_the_recent_days_does_not_count():
    member = Member(1, 11, "Builder AG", CUSTOMER, 3, people=(_known(1),))
    old = TypeChange(1, "K7", "Firma K7", "growth", "bell", "", TODAY - timedelta(days=91))
    assert _rank(ChainFacts(goal="growth", members=(member,), changes=(old,))) == []
    assert (
        len(_rank(ChainFacts(goal="growth", members=(member,), changes=(old,)), recent_days=120))
        == 1
    )


def test_a_type_change_between_the_last_two_analyses_counts_without_an_event():
    member = Member(1, 11, "Builder AG", CUSTOMER, 3, people=(_known(1),))
    customers = (
        _customer("K1", 11, "shrinking", previous_type="steady"),
        _customer("K2", 11, "steady", previous_type="steady"),
        _customer("K3", 11, "growth", previous_type="steady"),
    )
    facts = ChainFacts(goal="growth", members=(member,), customers=customers, analysed_on=TODAY)
    assert [e.customer for e in _rank(facts)] == ["K1"]
    # An analysis longer ago than the recent days is no news.
    stale = replace(facts, analysed_on=TODAY - timedelta(days=200))
    assert _rank(stale) == []


def test_which_type_changes_count():
    assert type_change_counts("growth", "bell")
    assert type_change_counts("growth", "steady")
    assert type_change_counts("steady", "burr")
    assert type_change_counts("cyclic", "shrinking")
    assert not type_change_counts("steady", "growth")
    assert not type_change_counts("bell", "bell")
    assert not type_change_counts("", "bell")


def test_a_type_change_the_customer_has_moved_on_from_does_not_count():
    member = Member(1, 11, "Builder AG", CUSTOMER, 3, people=(_known(1),))
    change = TypeChange(1, "K7", "Firma K7", "growth", "bell", "", TODAY - timedelta(days=3))
    recovered = _customer("K7", 11, "steady", previous_type="bell")
    facts = ChainFacts(goal="growth", members=(member,), customers=(recovered,), changes=(change,))
    assert _rank(facts) == []
